"""The fix loop: localize → generate → test → reflect, until a candidate is verified.

Knows nothing of LSP: the CLI (`fixloop fix`) and the server drive the same engine.
"""
