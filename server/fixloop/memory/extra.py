"""Whether this installation has the memory's optional dependencies: ChromaDB and what it
brings (numpy, onnxruntime, …) come with `pip install 'fixloop[memory]'`. Without them
fixloop works on with memory off, and says so once."""

from __future__ import annotations

import importlib.util

INSTALL_HINT = "pip install 'fixloop[memory]'"


def memory_missing() -> str | None:
    """Why memory cannot run in this installation, for people; None when it can."""
    if importlib.util.find_spec("chromadb") is None:
        return (
            "memory is off: ChromaDB is not installed in this environment "
            f"(`{INSTALL_HINT}` to remember past fixes)"
        )
    return None
