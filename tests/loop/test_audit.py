"""The security audit of passing candidates: a candidate that brings in a finding the
original did not have is not offered; each candidate's file is analysed as an edit of the
original, and must find what a full analysis of it finds."""

from __future__ import annotations

from collections import Counter

from fixloop.analysis.document import Document
from fixloop.analysis.findings import Group
from fixloop.analysis.languages import language_for
from fixloop.loop.audit import introduced_findings, prepare

ORIGINAL = """import subprocess


def run(command):
    return subprocess.run(command, shell=True)


def parse(text):
    return int(text)
"""


def _full(path: str, text: str) -> Counter[str]:
    language = language_for(path)
    assert language is not None
    found = Document(language, text).findings()
    return Counter(f.code for f in found if f.group in (Group.SAFETY, Group.SECRETS))


def test_a_candidate_that_brings_in_eval_is_named_and_one_that_does_not_passes() -> None:
    sources = {"app.py": ORIGINAL}
    risky = ORIGINAL.replace("int(text)", "eval(text)")
    assert introduced_findings(sources, {"app.py": risky}) == ["FL101 in app.py"]
    assert introduced_findings(sources, {"app.py": ORIGINAL.replace("int(", "float(")}) == []


def test_moving_a_finding_the_original_had_is_not_a_new_one() -> None:
    moved = ORIGINAL.replace("def run(command):", "# runs it\ndef run(command):")
    assert introduced_findings({"app.py": ORIGINAL}, {"app.py": moved}) == []


def test_the_audit_of_an_edit_finds_what_a_full_analysis_finds() -> None:
    prepare([("app.py", ORIGINAL)])  # as the session does while its first run goes on
    edits = [
        ORIGINAL.replace("int(text)", "eval(text)"),
        ORIGINAL.replace("shell=True", "shell=False"),
        ORIGINAL.replace("return int(text)", "return (int(text)"),  # no longer parses
        ORIGINAL.replace("import subprocess\n", "import subprocess, pickle\n").replace(
            "int(text)", "pickle.loads(text)"
        ),
        "",
    ]
    before = _full("app.py", ORIGINAL)
    for text in edits:
        expected = [f"{code} in app.py" for code in sorted(_full("app.py", text) - before)]
        assert introduced_findings({"app.py": ORIGINAL}, {"app.py": text}) == expected
    assert introduced_findings({"app.py": ORIGINAL}, {"app.py": edits[3]}) == ["FL104 in app.py"]


def test_a_file_of_a_language_not_analysed_is_not_audited() -> None:
    assert introduced_findings({"notes.txt": "a"}, {"notes.txt": "eval(x)"}) == []
