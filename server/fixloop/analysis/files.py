"""Reading a file for analysis: binary, invalid UTF-8 and oversized files are reported,
never allowed to freeze or crash the analysis."""

from __future__ import annotations

from dataclasses import dataclass

from fixloop.analysis.findings import Finding, Group, Severity
from fixloop.analysis.source import Span

CODE_NOT_UTF8 = "FL003"
CODE_TOO_LARGE = "FL004"


@dataclass(frozen=True, slots=True)
class Screened:
    """The verdict on a file's bytes: analyse it, or not, and what to tell the user."""

    analyse: bool
    findings: tuple[Finding, ...] = ()
    binary: bool = False


def looks_binary(data: bytes) -> bool:
    return b"\0" in data[:8192]


def screen(data: bytes, max_bytes: int) -> Screened:
    if looks_binary(data):
        return Screened(analyse=False, binary=True)
    if len(data) > max_bytes:
        return Screened(
            analyse=False,
            findings=(
                Finding(
                    code=CODE_TOO_LARGE,
                    message=f"not analysed: the file has {len(data):,} bytes, over the "
                    f"limit of {max_bytes:,} (setting diagnostics.maxFileBytes)",
                    severity=Severity.INFO,
                    group=Group.SYNTAX,
                    span=Span(0, 0),
                ),
            ),
        )
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        return Screened(
            analyse=True,
            findings=(
                Finding(
                    code=CODE_NOT_UTF8,
                    message=f"the file is not valid UTF-8 (byte {error.start}); "
                    "positions after it may be off",
                    severity=Severity.WARNING,
                    group=Group.SYNTAX,
                    span=Span(error.start, error.start + 1),
                ),
            ),
        )
    return Screened(analyse=True)
