"""The example project the README shows fixloop on, copied for a test to change freely."""

from __future__ import annotations

import shutil
from pathlib import Path

EXAMPLE_SHOP = Path(__file__).resolve().parents[2] / "examples" / "shop"


def copy_of_shop(folder: Path, name: str = "shop") -> Path:
    """A copy of examples/shop at `folder/name`."""
    root = folder / name
    shutil.copytree(EXAMPLE_SHOP, root)
    return root
