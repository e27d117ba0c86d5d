"""The VS Code extension in real VS Code (code-server) and headless Chromium."""
