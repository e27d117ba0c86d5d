"""Code actions, in this order: the deterministic fixes that safety rules carry (e.g.
`yaml.safe_load`, the only preferred ones); "Ignore FL102 on this line" (adds or extends
a `fixloop: ignore[…]` comment); "Apply fix seen before (…)" when memory has a
verified fix (found in the background, looked up here); "Fix with fixloop (run tests)" on
any fixloop diagnostic and as a source action; "Generate tests for this function" on a
Python function; "Show fix report".

`codeAction` only looks things up: nothing here runs tests, opens memory or reads more than
the project's test configuration (once per root).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from lsprotocol import types

from fixloop.analysis.budget import CODE_TOO_COMPLEX, path_to
from fixloop.analysis.catalogue import (
    CODE_UNKNOWN_SUPPRESSION,
    CODE_UNUSED_SUPPRESSION,
    known_codes,
)
from fixloop.analysis.files import CODE_TOO_LARGE
from fixloop.analysis.findings import Finding
from fixloop.analysis.selection import Suppression, suppressions
from fixloop.analysis.source import Encoding, PositionError, SourceText, Span
from fixloop.lsp.convert import SOURCE, from_position, to_range
from fixloop.lsp.edits import workspace_edit
from fixloop.lsp.fix_command import fix_action, project_root
from fixloop.lsp.generate_tests import generate_tests_action
from fixloop.lsp.report_command import report_action

if TYPE_CHECKING:
    from tree_sitter import Node

    from fixloop.lsp.documents import OpenDocument
    from fixloop.lsp.server import FixloopServer

TEST_SOURCE = "fixloop-tests"  # failing tests as diagnostics
FIXLOOP_SOURCES = (SOURCE, TEST_SOURCE)
# Nodes that are a function, per language: the source action fixes the one at the cursor.
_FUNCTIONS = {"function_definition", "function_declaration", "method_definition", "arrow_function"}


def _quick_fix(
    server: FixloopServer,
    opened: OpenDocument,
    finding: Finding,
    diagnostics: list[types.Diagnostic],
) -> types.CodeAction:
    assert finding.fix is not None
    encoding = server.encoding
    edits = [
        types.TextEdit(range=to_range(opened.source, e.span, encoding), new_text=e.new_text)
        for e in finding.fix.edits
    ]
    edit = workspace_edit(server, opened.uri, opened.version, edits)
    return types.CodeAction(
        title=f"{finding.fix.title} ({finding.code})",
        kind=types.CodeActionKind.QuickFix,
        diagnostics=diagnostics or None,
        is_preferred=True,
        edit=edit,
    )


# Codes a line comment cannot silence: about the whole file, or about suppressions.
_NOT_SUPPRESSIBLE = frozenset(
    {CODE_TOO_LARGE, CODE_TOO_COMPLEX, CODE_UNUSED_SUPPRESSION, CODE_UNKNOWN_SUPPRESSION}
)
_STRINGS = ("string", "template")


def _suppress_action(
    server: FixloopServer,
    opened: OpenDocument,
    diagnostic: types.Diagnostic,
    directives: list[Suppression],
) -> types.CodeAction | None:
    """ "Ignore CODE on this line": a `fixloop: ignore[CODE]` comment at the end of the
    diagnostic's last line, or CODE added to the one already there. None where a comment
    cannot go (the line ends inside a multi-line string)."""
    code = str(diagnostic.code)
    document = opened.document
    if document is None or code in _NOT_SUPPRESSIBLE or code not in known_codes():
        return None
    source = document.source
    line = diagnostic.range.end.line
    if line >= len(source.line_starts):
        return None
    end = source.line_starts[line] + len(source.line_bytes(line))
    existing = [d for d in directives if d.line == line]
    if existing:
        directive = existing[0]
        if directive.codes is None or code in directive.codes:
            return None  # silenced already: the diagnostic is stale
        text = source.data[directive.span.start : directive.span.end].decode()
        span = Span(directive.span.start, directive.span.end)
        new_text = text[:-1] + f", {code}]" if text.endswith("]") else f"{text}[{code}]"
    else:
        if _inside_string(document.tree.root_node, end):
            return None
        marker = "#" if opened.language.name == "python" else "//"
        span, new_text = Span(end, end), f"  {marker} fixloop: ignore[{code}]"
    edit = types.TextEdit(range=to_range(source, span, server.encoding), new_text=new_text)
    return types.CodeAction(
        title=f"Ignore {code} on this line (fixloop: ignore)",
        kind=types.CodeActionKind.QuickFix,
        diagnostics=[diagnostic],
        edit=workspace_edit(server, opened.uri, opened.version, [edit]),
    )


def _inside_string(root: Node, offset: int) -> bool:
    """Whether `offset` lies inside a string or template that goes on past it."""
    node: Node | None = root.descendant_for_byte_range(offset, offset)
    while node is not None:
        if any(kind in node.type for kind in _STRINGS) and node.start_byte < offset < node.end_byte:
            return True
        node = node.parent
    return False


def _can_run_tests(ls: FixloopServer, opened: OpenDocument) -> bool:
    """Python files of a project whose tests fixloop can run (a cheap look at its files)."""
    if opened.language.name != "python":
        return False
    root = project_root(ls, opened.uri)
    settings = ls.folder_settings.for_uri(opened.uri)
    return root is not None and ls.test_command(root, settings.tests.command) is not None


def _requested_span(ls: FixloopServer, source: SourceText, requested: types.Range) -> Span:
    """The range asked about; a position past the end (a client a step behind) is the end."""

    def offset(position: types.Position) -> int:
        try:
            return source.offset_at(from_position(position), ls.encoding)
        except PositionError:
            return len(source.data)

    start, end = offset(requested.start), offset(requested.end)
    return Span(min(start, end), end)


def _wanted_kinds(params: types.CodeActionParams) -> Callable[[str], bool]:
    """The kinds the client asked for (`only`): a kind matches itself and its sub-kinds."""
    only = params.context.only
    if not only:
        return lambda kind: True
    prefixes = [str(k) for k in only]
    return lambda kind: any(kind == p or kind.startswith(p + ".") for p in prefixes)


def _function_line(opened: OpenDocument, offset: int) -> int | None:
    """The 0-based line of the cursor when it is inside a function, else None."""
    if opened.document is None:
        return None
    path = path_to(opened.document.tree.root_node, offset)  # down from the root: linear
    if not any(node.type in _FUNCTIONS for node in path):
        return None
    return int(opened.source.position_at(offset, Encoding.UTF8).line)


def _loop_actions(
    ls: FixloopServer, opened: OpenDocument, params: types.CodeActionParams, offset: int
) -> list[types.CodeAction]:
    """The remembered fix and the loop, or one disabled action saying what is missing."""
    if not _can_run_tests(ls, opened):
        return []
    ours = [d for d in params.context.diagnostics if d.source in FIXLOOP_SOURCES]
    tests = [d for d in ours if d.source == TEST_SOURCE]
    problem = ls.test_diagnostics.why_waiting(opened.uri) or ls.availability.problem(
        ls.folder_settings.for_uri(opened.uri)
    )
    if problem is not None:
        if not ls.client_flags.code_action_disabled:
            return []  # said once already, in a message and the status
        return [fix_action(opened.uri, diagnostics=ours, disabled=problem)]
    actions = []
    remembered = ls.remembered.action(opened, tests)
    if remembered is not None:
        actions.append(remembered)
    elif tests:
        ls.remembered.wanted(opened.uri)  # looked for in the background, offered later
    if ours:
        actions.append(fix_action(opened.uri, line=ours[0].range.start.line, diagnostics=ours))
    else:
        actions.append(fix_action(opened.uri, line=_function_line(opened, offset)))
    return actions


# What `initialize` announces of code actions.
OPTIONS = types.CodeActionOptions(
    code_action_kinds=[types.CodeActionKind.QuickFix, types.CodeActionKind.Source]
)


async def code_action(
    ls: FixloopServer, params: types.CodeActionParams
) -> list[types.CodeAction] | None:
    """Deterministic fixes first, then the remembered fix, the loop, the report."""
    opened = ls.documents.get(params.text_document.uri)
    if opened is None:
        return None
    if opened.parsing is not None:  # a file just opened is parsed in a thread
        await opened.ready()
        opened = ls.documents.get(params.text_document.uri)
        if opened is None:
            return None
    ls.flush(opened)
    if opened.document is None or opened.desynced:
        return None
    wanted = _requested_span(ls, opened.document.source, params.range)
    actions = []
    # The findings as reported: none that a suppression or the settings hide, and the
    # unused suppressions with their removal.
    for finding in ls.diagnostics.reported_findings(opened):
        if finding.fix is None or not finding.span.touches(wanted):
            continue
        matching = [
            d for d in params.context.diagnostics if d.source == SOURCE and d.code == finding.code
        ]
        actions.append(_quick_fix(ls, opened, finding, matching))
    ours = [d for d in params.context.diagnostics if d.source == SOURCE]
    if ours:  # the file's directives, read once for all the diagnostics
        directives = suppressions(opened.document.source, opened.document.tree)
        for diagnostic in ours:
            suppress = _suppress_action(ls, opened, diagnostic, directives)
            if suppress is not None:
                actions.append(suppress)
    actions.extend(_loop_actions(ls, opened, params, wanted.start))
    tests_action = generate_tests_action(ls, opened, params.range.start.line)
    if tests_action is not None:
        actions.append(tests_action)
    if ls.last_session_id is not None:
        actions.append(report_action())
    kind_wanted = _wanted_kinds(params)
    return [a for a in actions if a.kind is None or kind_wanted(str(a.kind))]
