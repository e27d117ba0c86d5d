"""The fixloop language server: shared state, and the registration of every feature."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, cast

from lsprotocol import types
from pygls.io_ import StdoutWriter
from pygls.lsp.server import LanguageServer

from fixloop import __version__
from fixloop.analysis.source import Encoding
from fixloop.lsp.availability import LoopAvailability
from fixloop.lsp.capabilities import ClientFlags
from fixloop.lsp.configuration import FolderSettings, workspace_folders
from fixloop.lsp.convert import encoding_of
from fixloop.lsp.diagnostics import DiagnosticsPublisher
from fixloop.lsp.documents import OpenDocument, OpenDocuments
from fixloop.lsp.feature import Feature
from fixloop.lsp.jobs import Jobs
from fixloop.lsp.memory_access import MemoryAccess
from fixloop.lsp.protocol import FixloopProtocol
from fixloop.lsp.remembered import RememberedFixes
from fixloop.lsp.status import send_status
from fixloop.lsp.test_diagnostics import TestDiagnostics
from fixloop.lsp.transport import serve_connection, serve_stdio
from fixloop.lsp.verdicts import VerdictWatcher

if TYPE_CHECKING:
    from fixloop.sandbox import SandboxConfig, SandboxPool

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
        self.test_diagnostics = TestDiagnostics(self)  # failing tests, kept apart
        self.client_flags = ClientFlags()
        self.pushed_settings: Mapping[str, Any] | None = None
        self.shutdown_requested = False
        # The last fix session this server ran: what "Show fix report" opens.
        self.last_session_id: str | None = None
        # The loop in the editor: memory, remembered fixes, verdicts (sessions are jobs).
        self.memory = MemoryAccess(self)
        self.remembered = RememberedFixes(self)
        self.verdicts = VerdictWatcher(self)
        self.availability = LoopAvailability(self)
        self.jobs = Jobs()  # long-running work, by key
        # Every document event, settings reload and shutdown goes to each, in this order:
        # the publisher last, so that it shows what the others have just dropped.
        self.features: list[Feature] = [
            self.test_diagnostics,
            self.remembered,
            self.verdicts,
            self.diagnostics,
        ]
        # One pool per distinct sandbox configuration: folders of a multi-root workspace
        # that configure the sandbox differently each keep theirs (until shutdown).
        self._pools: dict[SandboxConfig, SandboxPool] = {}
        # The test command of each project root, detected once: codeAction asks on every
        # cursor move and must not read the disk each time. Emptied when settings reload.
        self.test_commands: dict[tuple[Path, str | None], str | None] = {}

    def test_command(self, root: Path, configured: str | None) -> str | None:
        from fixloop.testcommand import detect_test_command

        key = (root, configured)
        if key not in self.test_commands:
            self.test_commands[key] = detect_test_command(root, configured)
        return self.test_commands[key]

    def sandbox_pool(self, config: SandboxConfig) -> SandboxPool:
        """The sandbox of this configuration, started on first use and shared by the test
        runs of every folder configured alike (closed at shutdown). Another folder's
        configuration gets a pool of its own, never closing this one under its runs."""
        from fixloop.sandbox import SandboxPool

        pool = self._pools.get(config)
        if pool is None:
            pool = self._pools[config] = SandboxPool(config, on_prepare=self._say_preparing())
        return pool

    def _say_preparing(self) -> Callable[[str], None]:
        """What preparing a project's environment does (minutes, the first time): in the
        status bar and the log, from the sandbox's thread."""
        loop = asyncio.get_running_loop()

        def say(message: str) -> None:
            def tell() -> None:
                send_status(self, "testing", message, background=True)
                self.window_log_message(
                    types.LogMessageParams(
                        type=types.MessageType.Info, message=f"fixloop: {message}"
                    )
                )

            loop.call_soon_threadsafe(tell)

        return say

    def close_sandbox(self) -> None:
        pools = list(self._pools.values())
        self._pools.clear()
        for pool in pools:
            pool.close()

    @property
    def encoding(self) -> Encoding:
        return encoding_of(self.workspace.position_encoding)

    def report_server_error(self, error: Exception, source: Any) -> None:
        """Log an error; never tell the client (a request's error is in its response, and
        pygls's default would send a notification with a traceback)."""
        data = getattr(error, "data", None)
        detail = (
            "".join(data["traceback"]) if isinstance(data, dict) and "traceback" in data else ""
        )
        logger.error("%s: %s\n%s", getattr(source, "__name__", source), error, detail)

    @property
    def _protocol(self) -> FixloopProtocol:
        return cast(FixloopProtocol, self.protocol)

    @property
    def max_message_bytes(self) -> int:
        """The size limit of one message: the largest of the environment's (all there is
        before `initialize`) and each workspace folder's."""
        try:
            folders = [folder.rstrip("/") + "/" for folder in workspace_folders(self)]
        except RuntimeError:  # not initialized
            folders = []
        return max(self.folder_settings.for_uri(uri).max_message_bytes for uri in ["", *folders])

    def start_io(self, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> None:
        """Serve over stdio with fixloop's reader (see transport.py), not pygls's."""
        self._stop_event = stop = threading.Event()
        self.protocol.set_writer(StdoutWriter(stdout or sys.stdout.buffer))
        limit = lambda: self.max_message_bytes  # noqa: E731
        try:
            asyncio.run(serve_stdio(self._protocol, stdin or sys.stdin.buffer, stop, limit))
        except BrokenPipeError:
            logger.error("the client closed the connection; shutting down")
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            self.shutdown()  # type: ignore[no-untyped-call]

    def start_tcp(self, host: str, port: int) -> None:
        """Serve one client over TCP with fixloop's reader, as pygls's start_tcp does."""
        self._stop_event = stop = threading.Event()

        async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.protocol.set_writer(_SocketWriter(writer))
            await serve_connection(self._protocol, reader, stop, lambda: self.max_message_bytes)
            self.shutdown()  # type: ignore[no-untyped-call]

        async def listen() -> None:
            self._server = await asyncio.start_server(connection, host, port)
            async with self._server:
                await self._server.serve_forever()

        with contextlib.suppress(asyncio.CancelledError, KeyboardInterrupt, SystemExit):
            asyncio.run(listen())

    def flush(self, opened: OpenDocument) -> None:
        """Apply an open document's queued changes."""
        if not opened.pending or opened.loading:
            return
        settings = self.folder_settings.for_uri(opened.uri)
        self.documents.flush(opened, self.encoding, settings.diagnostics.max_file_bytes)
        self.verdicts.observe(opened)


class _SocketWriter:
    """A TCP connection as pygls's writer (write and close)."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self._writer = writer

    def write(self, data: bytes) -> None:
        self._writer.write(data)

    def close(self) -> None:
        self._writer.close()


def create_server() -> FixloopServer:
    from fixloop.lsp.methods import register

    server = FixloopServer()
    register(server)
    return server
