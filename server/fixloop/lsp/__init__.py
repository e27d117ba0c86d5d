"""The LSP layer: thin handlers, one module per LSP concern, over the core engine."""
