"""Quick fixes: the deterministic fixes that safety rules carry (e.g. `yaml.safe_load`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

from fixloop.analysis.findings import Finding
from fixloop.analysis.source import Span
from fixloop.lsp.convert import SOURCE, from_position, to_range
from fixloop.lsp.fix_command import fix_action, project_root
from fixloop.lsp.report_command import report_action

if TYPE_CHECKING:
    from fixloop.lsp.documents import OpenDocument
    from fixloop.lsp.server import FixloopServer


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
    if server.client_flags.document_changes:
        # Versioned: the client refuses the edit if the document changed since.
        edit = types.WorkspaceEdit(
            document_changes=[
                types.TextDocumentEdit(
                    text_document=types.OptionalVersionedTextDocumentIdentifier(
                        uri=opened.uri, version=opened.version
                    ),
                    edits=list(edits),
                )
            ]
        )
    else:
        edit = types.WorkspaceEdit(changes={opened.uri: list(edits)})
    return types.CodeAction(
        title=f"{finding.fix.title} ({finding.code})",
        kind=types.CodeActionKind.QuickFix,
        diagnostics=diagnostics or None,
        is_preferred=True,
        edit=edit,
    )


def _can_run_tests(ls: FixloopServer, opened: OpenDocument) -> bool:
    """Python files of a project whose tests fixloop can run (a cheap look at its files)."""
    if opened.language.name != "python":
        return False
    root = project_root(ls, opened.uri)
    settings = ls.folder_settings.for_uri(opened.uri)
    return root is not None and ls.test_command(root, settings.tests.command) is not None


def register(server: FixloopServer) -> None:
    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(
            code_action_kinds=[types.CodeActionKind.QuickFix, types.CodeActionKind.Source]
        ),
    )
    def code_action(
        ls: FixloopServer, params: types.CodeActionParams
    ) -> list[types.CodeAction] | None:
        """Deterministic quick fixes for the findings in the requested range."""
        opened = ls.documents.get(params.text_document.uri)
        if opened is None:
            return None
        ls.flush(opened)
        if opened.document is None or opened.desynced:
            return None
        source = opened.document.source
        wanted = Span(
            source.offset_at(from_position(params.range.start), ls.encoding),
            source.offset_at(from_position(params.range.end), ls.encoding),
        )
        actions = []
        for finding in opened.document.findings():
            if finding.fix is None or not finding.span.touches(wanted):
                continue
            matching = [
                d
                for d in params.context.diagnostics
                if d.source == SOURCE and d.code == finding.code
            ]
            actions.append(_quick_fix(ls, opened, finding, matching))
        if _can_run_tests(ls, opened):
            actions.append(fix_action(opened.uri))
        if ls.last_session_id is not None:
            actions.append(report_action())
        return actions
