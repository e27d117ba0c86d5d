"""One session told for people: as text (terminal, editor) or as a self-contained page."""

from __future__ import annotations

import html
from collections import Counter

from fixloop.sessions.history import Event, summarize
from fixloop.words import counted


def _end(events: list[Event]) -> Event:
    return next((e for e in reversed(events) if e["event"] == "end"), {})


def _baseline(events: list[Event]) -> Event:
    return next((e for e in events if e["event"] == "baseline"), {})


def _iterations(events: list[Event]) -> list[tuple[int, int, int]]:
    """(iteration, candidates tested, candidates that passed the failing tests)."""
    tried: Counter[int] = Counter()
    passed: Counter[int] = Counter()
    for event in events:
        if event["event"] == "candidate":
            tried[int(event.get("iteration", 0))] += 1
            passed[int(event.get("iteration", 0))] += bool(event.get("passed"))
    return [(i, tried[i], passed[i]) for i in sorted(tried)]


def _usage_lines(end: Event) -> list[str]:
    lines = []
    for generator, usage in (end.get("usage") or {}).items():
        if isinstance(usage, dict):
            lines.append(
                f"{generator}: {usage.get('requests', 0)} requests, "
                f"{usage.get('total_tokens', 0)} tokens, cost {usage.get('cost', 0.0):.4f}"
            )
    return lines


def text_report(session_id: str, events: list[Event]) -> str:
    summary = summarize(session_id, events)
    end, baseline = _end(events), _baseline(events)
    lines = [
        f"fixloop session {session_id}",
        f"  started   {summary.started}",
        f"  project   {summary.root}",
        f"  target    {', '.join(summary.targets) or '(from the tracebacks)'}",
        f"  tests     {summary.command}",
        f"  engine    {summary.engine}",
        f"  result    {summary.status}: {summary.message}",
        f"  effort    {counted(summary.iterations, 'iteration')}, "
        f"{counted(summary.candidates_tried, 'candidate')}, "
        f"{summary.duration:.1f} s, {summary.tokens} tokens",
    ]
    if end.get("why"):
        lines.append(f"  why       {end['why']}")
    if baseline:
        lines += ["", f"before: {baseline.get('summary', '')}"]
        lines += [f"  failing: {test}" for test in baseline.get("failing", [])]
    iterations = _iterations(events)
    if iterations:
        lines += ["", "iterations:"]
        lines += [f"  {i}: {n} tested, {p} passed the failing tests" for i, n, p in iterations]
    rejected = [e for e in events if e["event"] in ("audit", "regression")]
    for event in rejected:
        if event["event"] == "audit":
            lines.append(
                f"  audit refused {event['description']}: {', '.join(event['introduced'])}"
            )
        elif event.get("regressions"):
            broken = ", ".join(event["regressions"])
            lines.append(f"  regression run refused {event['description']}: breaks {broken}")
    lines += [f"  {line}" for line in _usage_lines(end)]
    lines += [f"note: {note}" for note in end.get("notes", [])]
    if end.get("diff"):
        lines += ["", "verified patch:", end["diff"].rstrip("\n")]
    return "\n".join(lines) + "\n"


_STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 60em; color: #222; }
h1 { font-size: 1.3em; } table { border-collapse: collapse; width: 100%; }
td, th { border-bottom: 1px solid #ddd; padding: .25em .5em; text-align: left; }
td { vertical-align: top; }
.pass { color: #176c2c; } .fail { color: #a32020; } pre { background: #f6f6f6; padding: .8em; }
.add { color: #176c2c; } .del { color: #a32020; } .meta { color: #666; }
"""


def _diff_html(diff: str) -> str:
    rows = []
    for line in diff.splitlines():
        kind = (
            "meta"
            if line.startswith(("---", "+++", "@@"))
            else "add"
            if line.startswith("+")
            else "del"
            if line.startswith("-")
            else ""
        )
        rows.append(f'<span class="{kind}">{html.escape(line)}</span>')
    return "<pre>" + "\n".join(rows) + "</pre>"


def html_report(session_id: str, events: list[Event]) -> str:
    """A page with no outside resource: it opens the same offline, attached to an issue…"""
    summary = summarize(session_id, events)
    end = _end(events)
    facts = [
        ("Result", f"{summary.status}: {summary.message}"),
        ("Project", summary.root),
        ("Target", ", ".join(summary.targets) or "(from the tracebacks)"),
        ("Tests", summary.command),
        ("Engine", summary.engine),
        ("Before", str(_baseline(events).get("summary", ""))),
        (
            "Effort",
            f"{counted(summary.iterations, 'iteration')}, "
            f"{counted(summary.candidates_tried, 'candidate')}, "
            f"{summary.duration:.1f} s, {summary.tokens} tokens, cost {summary.cost:.4f}",
        ),
    ]
    rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in facts)
    candidates = "".join(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td class='{}'>{}</td></tr>".format(
            e.get("iteration", ""),
            html.escape(str(e.get("template") or e.get("generator", ""))),
            html.escape(str(e.get("description", ""))),
            "pass" if e.get("passed") else "fail",
            html.escape(str(e.get("summary", ""))),
        )
        for e in events
        if e["event"] == "candidate"
    )
    notes = "".join(f"<li>{html.escape(str(n))}</li>" for n in end.get("notes", []))
    patch = _diff_html(end["diff"]) if end.get("diff") else "<p>No verified patch.</p>"
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>fixloop session {html.escape(session_id)}</title><style>{_STYLE}</style>"
        f"</head><body><h1>fixloop session {html.escape(session_id)}</h1>"
        f"<table>{rows}</table><h2>Verified patch</h2>{patch}"
        + (f"<h2>Notes</h2><ul>{notes}</ul>" if notes else "")
        + "<h2>Candidates</h2><table><tr><th>Iteration</th><th>Template / generator</th>"
        f"<th>Edit</th><th>Tests</th></tr>{candidates}</table></body></html>\n"
    )
