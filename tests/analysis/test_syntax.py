"""Syntax errors in words a person understands, one per error region."""

from __future__ import annotations

import pytest

from fixloop.analysis.languages import language_for
from fixloop.analysis.syntax import syntax_findings


def _messages(language_id: str, code: str) -> list[tuple[str, str]]:
    spec = language_for(language_id=language_id)
    assert spec is not None
    data = code.encode()
    tree = spec.parser().parse(data)
    return [
        (f.message, data[f.span.start : f.span.end].decode())
        for f in syntax_findings(tree, spec.name)
    ]


@pytest.mark.parametrize(
    ("language_id", "code", "expected"),
    [
        ("python", "print(1, 2\nx = 3\n", [("missing `)`: this `(` is never closed", "(")]),
        ("python", "s = 'abc\nt = 1\n", [("unterminated string", "'")]),
        ("python", 'x = """abc\n', [("unterminated string", '"""')]),
        (
            "python",
            "if x:\n    pass\nelse:\n    pass\nelse:\n    y\n",
            [("unexpected `else`", "else")],
        ),
        ("python", "def f()\n    return 1\n", [("missing `:` at the end of the `def` line", ")")]),
        ("python", "x = 1 +\n", [("expected an expression after `+`", "+")]),
        ("python", "x = (1]\n", [("mismatched `]`: `(` is closed by `)`", "]")]),
        ("python", "x = 1)\n", [("unexpected `)`: nothing to close", ")")]),
        ("javascript", "let s = 'abc\nlet t = 1;\n", [("unterminated string", "'")]),
        ("javascript", "if (x) { } else { } else { }\n", [("unexpected `else`", "else")]),
        ("javascript", "foo(1, 2;\n", [("missing `)`", "")]),
        ("typescript", "let x: number = ;\n", [("expected an expression after `=`", "=")]),
        ("typescriptreact", "const v = <div>{items.map(i => i}</div>;\n", [("missing `)`", "")]),
    ],
)
def test_error_messages(language_id: str, code: str, expected: list[tuple[str, str]]) -> None:
    assert _messages(language_id, code) == expected


def test_valid_code_has_no_syntax_findings() -> None:
    assert _messages("python", "def f(x):\n    return [x, (1, 2), {'a': 'b'}]\n") == []
    assert _messages("typescript", "const f = (x: number): number => x * 2;\n") == []


def test_one_finding_per_error_region_not_a_cascade() -> None:
    code = "def a(:\n    pass\n\n" + "x = 1\n" * 50 + "def b(:\n    pass\n"
    assert len(_messages("python", code)) == 2
