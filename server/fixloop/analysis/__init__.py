"""Parsing and analysis of source files: no LSP here, so the CLI and the server share it."""
