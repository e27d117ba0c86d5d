"""`fixloop lsp`: the language server, over stdio (default) or TCP."""

from __future__ import annotations

import argparse
import logging
import sys


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("lsp", help="run the language server")
    transport = parser.add_mutually_exclusive_group()
    # vscode-languageclient appends --stdio to the server's arguments.
    transport.add_argument("--stdio", action="store_true", help="speak LSP on stdin/stdout")
    transport.add_argument("--tcp", metavar="HOST:PORT", help="listen on a TCP address")
    parser.add_argument("--log-file", help="write the server's log to this file")
    parser.add_argument(
        "--log-level", default="WARNING", choices=["DEBUG", "INFO", "WARNING", "ERROR"]
    )
    parser.set_defaults(handler=run)


def _host_port(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit():
        raise SystemExit(f"fixloop lsp: --tcp wants HOST:PORT, got {value!r}")
    return host, int(port)


def run(args: argparse.Namespace) -> int:
    handler = (
        logging.FileHandler(args.log_file) if args.log_file else logging.StreamHandler(sys.stderr)
    )  # never stdout: that is the LSP channel
    logging.basicConfig(
        level=args.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=[handler],
    )
    from fixloop.lsp.server import create_server

    server = create_server()
    if args.tcp:
        host, port = _host_port(args.tcp)
        server.start_tcp(host, port)
    else:
        server.start_io()
    # LSP: exit after shutdown is a clean stop (0); an exit or lost client without it is not.
    return 0 if server.shutdown_requested else 1
