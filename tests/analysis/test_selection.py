"""Rule selection and inline suppressions in the core (`fixloop.analysis.selection`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixloop.analysis.catalogue import README_URL, rule_docs
from fixloop.analysis.document import Document
from fixloop.analysis.languages import language_for
from fixloop.analysis.rules import all_rules
from fixloop.analysis.selection import RuleSelection, reported
from fixloop.config import DiagnosticsSettings, load_settings
from tests.analysis.conftest import apply_edits


def _reported(text: str, selection: RuleSelection | None = None, name: str = "a.py") -> list[str]:
    """`line:code` of each finding reported in `text`."""
    spec = language_for(name)
    assert spec is not None
    document = Document(spec, text)
    found = reported(
        document.findings(), selection or RuleSelection(), name, document.source, document.tree
    )
    return [f"{document.source.position_at(f.span.start).line + 1}:{f.code}" for f in found]


@pytest.mark.parametrize(
    ("select", "ignore", "enabled"),
    [
        ((), (), {"FL101", "FL102", "FL301"}),
        (("FL1",), (), {"FL101", "FL102"}),
        ((), ("FL1",), {"FL301"}),
        (("FL102",), ("FL1",), {"FL102"}),  # the more specific entry wins
        (("FL1",), ("FL102",), {"FL101"}),
        (("FL1",), ("FL1",), set()),  # a tie goes to ignore
        (("fl3",), (), {"FL301"}),  # codes are case-insensitive
    ],
)
def test_select_and_ignore_by_code_and_prefix(
    select: tuple[str, ...], ignore: tuple[str, ...], enabled: set[str]
) -> None:
    selection = RuleSelection.of(["syntax", "safety", "secrets"], select, ignore)
    codes = {"FL101", "FL102", "FL301"}
    assert {c for c in codes if selection.enabled(c, "safety")} == enabled


def test_per_file_ignores_match_gitignore_style_globs() -> None:
    selection = RuleSelection.of(
        ["safety"], per_file_ignores={"tests/**": ["FL1"], "*_gen.py": ["FL102"]}
    )
    assert selection.for_file("tests/unit/test_a.py") == ("FL1",)
    assert selection.for_file("pkg/api_gen.py") == ("FL102",)
    assert selection.for_file("pkg/api.py") == ()
    assert not selection.enabled("FL101", "safety", selection.for_file("tests/test_a.py"))
    assert selection.enabled("FL101", "safety", selection.for_file("src/a.py"))


def test_groups_still_switch_whole_groups() -> None:
    selection = RuleSelection.of(["syntax"], select=["FL1"])
    assert not selection.enabled("FL101", "safety")


SOURCE = """import os
os.system(a)  # fixloop: ignore[FL103]
os.system(b)  # fixloop:ignore[fl103,FL101]
os.system(c)  # fixloop: ignore[FL101, FL006]
eval(d)  # note: fixloop: ignore
x = 1  # fixloop: ignore[FL999, FL007]
y = 2  # fixloop: ignore[FL999]
"""


def test_suppressions_silence_report_unused_and_unknown_codes() -> None:
    assert _reported(SOURCE) == [
        "3:FL006",  # FL101 is not on line 3 (FL103 is, and is silenced)
        "4:FL103",  # FL101 does not silence FL103; FL006 named: not reported unused
        "5:FL101",  # the directive must open the comment (`# fixloop:` / `// fixloop:`)
        "7:FL007",
    ]


def test_a_disabled_rule_leaves_its_suppressions_alone() -> None:
    selection = RuleSelection.of(["syntax", "safety", "secrets"], ignore=["FL103"])
    assert "2:FL006" not in _reported(SOURCE, selection)
    quiet = RuleSelection.of(["syntax", "safety", "secrets"], ignore=["FL006", "FL007"])
    assert _reported(SOURCE, quiet) == ["4:FL103", "5:FL101"]


def test_javascript_and_tsx_comments() -> None:
    text = "eval(a); // fixloop: ignore[FL201]\n/* fixloop: ignore */ eval(b);\n"
    assert _reported(text, name="a.js") == ["2:FL201"]
    assert _reported("eval(a); // fixloop: ignore\n", name="a.tsx") == []


def test_every_code_has_its_documentation_and_readme_section() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    for doc in rule_docs().values():
        assert doc.summary and doc.why and doc.example, doc.code
        assert f"\n### {doc.code} {doc.name}\n" in readme, f"README has no section {doc.code}"
        assert doc.help_uri == f"{README_URL}#{doc.code.lower()}-{doc.name}"
    registered = {rule.code for rule in all_rules()}
    assert registered <= set(rule_docs())


def test_settings_make_the_selection_and_keep_glob_keys_as_written(tmp_path: Path) -> None:
    root = tmp_path
    (root / "pyproject.toml").write_text(
        '[tool.fixloop]\nextend-ignore = ["FL105"]\n'
        '[tool.fixloop.diagnostics]\nignore = ["FL104"]\n'
        'per-file-ignores = { "My-Dir/*Gen*.py" = ["FL1"] }\n',
        encoding="utf-8",
    )
    settings = load_settings(root, environ={})
    assert settings.problems == ()
    diagnostics = settings.diagnostics
    assert diagnostics.per_file_ignores == {"My-Dir/*Gen*.py": ("FL1",)}
    assert diagnostics.selection().ignore == ("FL104", "FL105")
    env = {"FIXLOOP_DIAGNOSTICS_PER_FILE_IGNORES": '{"a/*": ["FL2"]}'}
    assert load_settings(None, environ=env).diagnostics.per_file_ignores == {"a/*": ("FL2",)}
    assert hash(diagnostics) == hash(
        DiagnosticsSettings(ignore=("FL104",), extend_ignore=("FL105",))
    )


def _fixed(text: str, name: str = "a.py") -> str:
    """The text after the fix of its one unused suppression."""
    spec = language_for(name)
    assert spec is not None
    document = Document(spec, text)
    found = reported(document.findings(), RuleSelection(), name, document.source, document.tree)
    [unused] = [f for f in found if f.code == "FL006"]
    assert unused.fix is not None
    return apply_edits(text, unused.fix)


@pytest.mark.parametrize(
    ("text", "fixed"),
    [
        ("x = 1  # fixloop: ignore\n", "x = 1\n"),
        ("x = 1  # fixloop: ignore[FL103]\ny = 2\n", "x = 1\ny = 2\n"),
        ("x = 1  # fixloop: ignore[FL103] (legacy)\n", "x = 1  # (legacy)\n"),
        ("x = 1  # keep  # fixloop: ignore[FL101]\n", "x = 1  # keep\n"),
        (
            "import os\nos.system(c)  # fixloop: ignore[FL101, FL103, FL102]\n",
            "import os\nos.system(c)  # fixloop: ignore[FL103]\n",
        ),
    ],
)
def test_an_unused_suppression_comes_with_its_removal(text: str, fixed: str) -> None:
    assert _fixed(text) == fixed


def test_an_unused_javascript_suppression_is_removed() -> None:
    assert _fixed("x = 1; // fixloop: ignore[FL201]\n", "a.js") == "x = 1;\n"
