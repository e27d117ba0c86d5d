"""The fixloop language server: shared state, and the registration of every feature."""

from __future__ import annotations

import logging

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from fixloop import __version__
from fixloop.analysis.source import Encoding
from fixloop.lsp import code_actions, configuration, text_sync
from fixloop.lsp.capabilities import ClientFlags
from fixloop.lsp.configuration import FolderSettings
from fixloop.lsp.convert import encoding_of
from fixloop.lsp.diagnostics import DiagnosticsPublisher
from fixloop.lsp.documents import OpenDocument, OpenDocuments
from fixloop.lsp.protocol import FixloopProtocol

logger = logging.getLogger(__name__)


class FixloopServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(
            "fixloop",
            __version__,
            protocol_cls=FixloopProtocol,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
        )
        self.documents = OpenDocuments()
        self.folder_settings = FolderSettings()
        self.diagnostics = DiagnosticsPublisher(self)
        self.client_flags = ClientFlags()

    @property
    def encoding(self) -> Encoding:
        return encoding_of(self.workspace.position_encoding)

    def flush(self, opened: OpenDocument) -> None:
        """Apply an open document's queued changes."""
        settings = self.folder_settings.for_uri(opened.uri)
        self.documents.flush(opened, self.encoding, settings.diagnostics.max_file_bytes)


def _register_lifecycle(server: FixloopServer) -> None:
    @server.feature(types.INITIALIZE)
    def initialize(ls: FixloopServer, params: types.InitializeParams) -> None:
        """Resolve what the client can do."""
        ls.client_flags = ClientFlags.from_capabilities(params.capabilities)

    @server.feature(types.SHUTDOWN)
    def shutdown(ls: FixloopServer, params: None) -> None:
        """Forget open documents; the process exits on `exit`."""
        logger.info("shutdown requested")


def create_server() -> FixloopServer:
    server = FixloopServer()
    _register_lifecycle(server)
    configuration.register(server)
    text_sync.register(server)
    code_actions.register(server)
    return server
