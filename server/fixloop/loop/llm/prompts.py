"""The prompts: a fixed system prompt (the rules and the reply format) and a user prompt
built from the repair context — failing tests, trimmed output, the localized code with
line numbers, the earlier attempts (reflection) and similar past fixes from memory.

Every text that leaves the machine passes through the `Redactor` here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from fixloop.loop.llm.redact import Redactor
from fixloop.loop.llm.settings import PromptLimits
from fixloop.loop.model import Attempt, Failure, Location, PastFix, RepairContext

SYSTEM_PROMPT = """\
You repair source code so that failing tests pass.

Rules:
- Make the smallest change that fixes the cause of the failures; keep the code's style.
- Edit only the files shown under "Code". Never edit tests or test files: the tests are \
the specification.
- Earlier attempts that failed are shown with their test output: do not repeat them.
- Some secrets were replaced by `<redacted:...>` placeholders. Never write a placeholder \
into the code: leave the lines that hold one unchanged.

Reply with one sentence saying what you change, then one or more SEARCH/REPLACE blocks \
and nothing else. Each block is the file's path on a line of its own, then:

<<<<<<< SEARCH
the exact lines to replace, copied from the file (without the line numbers)
=======
the lines that replace them
>>>>>>> REPLACE

The SEARCH lines must match the file exactly, in one place only: include a few \
unchanged lines around the change when needed to make them unique.
"""

_LANGUAGE_FENCE = {"python": "python", "javascript": "javascript", "typescript": "typescript"}
_ERROR_LINE = re.compile(
    r"(?i)error|exception|traceback|failed|assert|^E\s|^>\s|expected|received|\bat\s.+:\d+"
)


def build_messages(
    context: RepairContext, redactor: Redactor, limits: PromptLimits | None = None
) -> list[dict[str, str]]:
    """The system and user messages for a context, secrets redacted."""
    limits = limits or PromptLimits()
    # Sources first (line counts survive redaction), the whole prompt once more after.
    sources = {path: redactor.redact(text) for path, text in context.sources.items()}
    user = user_prompt(context, sources, limits)
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": redactor.redact(user)},
    ]


def retry_message(reason: str) -> dict[str, str]:
    """What the model is told when its reply could not be applied."""
    return {
        "role": "user",
        "content": f"Your reply could not be applied: {reason}.\nReply again with one "
        "sentence and SEARCH/REPLACE blocks only, copying the SEARCH lines exactly from "
        "the code above (without the line numbers).",
    }


def user_prompt(context: RepairContext, sources: Mapping[str, str], limits: PromptLimits) -> str:
    sections = [
        _failures_section(context.failures),
        _section("Test output (trimmed)", _fenced(trim(context.test_output, limits.output_chars))),
        _code_section(sources, context.locations, context.language, limits),
        _attempts_section(context.attempts, limits),
        _past_fixes_section(context.past_fixes, limits),
        _task_section(sources),
    ]
    return "\n\n".join(section for section in sections if section)


def _section(title: str, body: str) -> str:
    return f"# {title}\n\n{body}" if body.strip() else ""


def _failures_section(failures: Sequence[Failure]) -> str:
    lines = []
    for failure in failures:
        message = failure.message.strip().splitlines()
        lines.append(f"- {failure.test_id}: {message[0] if message else '(no message)'}")
        if failure.frames:
            where = ", ".join(f"{path}:{line}" for path, line in failure.frames[-3:])
            lines.append(f"  through {where}")
    return _section("Failing tests", "\n".join(lines))


def _code_section(
    sources: Mapping[str, str],
    locations: Sequence[Location],
    language: str,
    limits: PromptLimits,
) -> str:
    ranked = list(dict.fromkeys(loc.path for loc in locations if loc.path in sources))
    ranked += [path for path in sources if path not in ranked]
    fence = _LANGUAGE_FENCE.get(language, "")
    parts = []
    suspicious = ", ".join(f"{loc.path}:{loc.line}" for loc in locations[:8])
    if suspicious:
        parts.append(f"Most suspicious lines first: {suspicious}")
    for path in ranked:
        lines = sources[path].splitlines()
        marked = [loc.line for loc in locations if loc.path == path]
        shown = _shown_ranges(len(lines), marked, limits)
        span = ", ".join(f"{a}-{b}" for a, b in shown)
        listing = _numbered(lines, shown)
        parts.append(f"{path} (lines {span} of {len(lines)}):\n{_fenced(listing, fence)}")
    return _section("Code", "\n\n".join(parts))


def _shown_ranges(size: int, lines: Sequence[int], limits: PromptLimits) -> list[tuple[int, int]]:
    """1-based inclusive ranges: the whole file when small, else windows around `lines`."""
    if size <= limits.whole_file_lines or not lines:
        return [(1, min(size, max(limits.whole_file_lines, 1)))] if size else [(0, 0)]
    ranges: list[tuple[int, int]] = []
    for line in sorted(lines):
        start, end = max(1, line - limits.context_lines), min(size, line + limits.context_lines)
        if ranges and start <= ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], max(ranges[-1][1], end))
        else:
            ranges.append((start, end))
    return ranges


def _numbered(lines: Sequence[str], ranges: Sequence[tuple[int, int]]) -> str:
    out = []
    for index, (start, end) in enumerate(ranges):
        if index or start > 1:
            out.append("     ...")
        out.extend(f"{n:>4} | {lines[n - 1]}" for n in range(max(start, 1), end + 1))
    if ranges and ranges[-1][1] < len(lines):
        out.append("     ...")
    return "\n".join(out)


def _attempts_section(attempts: Sequence[Attempt], limits: PromptLimits) -> str:
    parts = []
    for number, attempt in enumerate(attempts, 1):
        parts.append(
            f"## Attempt {number}: {attempt.outcome}\n\nIt changed:\n"
            f"{_fenced(trim(attempt.diff, limits.diff_chars), 'diff')}\n\n"
            f"The tests then said:\n{_fenced(trim(attempt.output, limits.attempt_output_chars))}"
        )
    return _section("Earlier attempts that failed (oldest first)", "\n\n".join(parts))


def _past_fixes_section(fixes: Sequence[PastFix], limits: PromptLimits) -> str:
    parts = []
    best = sorted(fixes, key=lambda fix: -fix.similarity)[: limits.past_fixes]
    for number, fix in enumerate(best, 1):
        parts.append(
            f"## Past fix {number} (similarity {fix.similarity:.2f})\n\n"
            f"Failure:\n{_fenced(trim(fix.failure, limits.attempt_output_chars))}\n\n"
            f"Fix:\n{_fenced(trim(fix.diff, limits.diff_chars), 'diff')}"
        )
    return _section("Similar failures fixed before", "\n\n".join(parts))


def _task_section(sources: Mapping[str, str]) -> str:
    files = ", ".join(sorted(sources))
    return _section(
        "Task",
        f"Fix the code so that the failing tests pass. You may edit only: {files}. "
        "Test files must not be edited. Answer in the SEARCH/REPLACE format.",
    )


def _fenced(text: str, language: str = "text") -> str:
    if not text.strip():
        return ""
    fence = "````" if "```" in text else "```"
    return f"{fence}{language}\n{text.rstrip()}\n{fence}"


def trim(text: str, max_chars: int) -> str:
    """`text` within `max_chars`: its head, its error lines, its tail."""
    if len(text) <= max_chars:
        return text
    lines = text.splitlines()
    head = _take(lines, max_chars * 3 // 10)
    tail = _take(lines[len(head) :][::-1], max_chars * 4 // 10)[::-1]
    middle = lines[len(head) : len(lines) - len(tail)]
    errors = _take([line for line in middle if _ERROR_LINE.search(line)], max_chars * 3 // 10)
    omitted = len(middle) - len(errors)
    marker = [f"... ({omitted} lines omitted) ..."] if omitted else []
    return "\n".join([*head, *marker, *errors, *(marker if errors else []), *tail])


def _take(lines: Sequence[str], budget: int) -> list[str]:
    """Leading lines within `budget` characters (one over-long line is cut)."""
    taken: list[str] = []
    for line in lines:
        if len(line) + 1 > budget:
            if not taken and budget > 0:
                taken.append(line[:budget])
            break
        taken.append(line)
        budget -= len(line) + 1
    return taken


REVIEW_PROMPT = """\
You review a patch that makes failing tests pass, before a person sees it.

Approve it when it fixes the cause of the failures in a way a careful maintainer would \
write. Reject it when it special-cases the tests' inputs, hard-codes expected values, \
silences an error instead of fixing it, or changes behaviour the tests do not ask for.

Reply with APPROVE or REJECT on the first line, then one sentence saying why.
"""


def review_messages(
    failures: Sequence[Failure], diff: str, redactor: Redactor, limits: PromptLimits | None = None
) -> list[dict[str, str]]:
    """The reviewer's question about one verified patch, secrets redacted."""
    limits = limits or PromptLimits()
    body = "\n\n".join(
        [
            _section("Failing tests (they pass with the patch)", _failures_section(failures)),
            _section("Patch", _fenced(trim(diff, limits.diff_chars), "diff")),
        ]
    )
    return [
        {"role": "system", "content": REVIEW_PROMPT},
        {"role": "user", "content": redactor.redact(body)},
    ]
