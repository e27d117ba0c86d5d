"""The server's sandbox pools: one per distinct sandbox configuration, never one closed
under another folder's runs (multi-root workspaces whose folders configure it apart)."""

from __future__ import annotations

import asyncio

from fixloop.lsp.server import FixloopServer
from fixloop.sandbox import SandboxConfig


def test_each_configuration_keeps_its_own_pool() -> None:
    async def check() -> None:
        server = FixloopServer()
        first = server.sandbox_pool(SandboxConfig(memory="512m"))
        second = server.sandbox_pool(SandboxConfig(memory="1g"))
        assert first is not second
        assert not first._closed and not second._closed  # the first folder's runs go on
        assert server.sandbox_pool(SandboxConfig(memory="512m")) is first
        server.close_sandbox()
        assert first._closed and second._closed

    asyncio.run(check())
