"""The offline repair engine: repair templates applied at the suspicious lines, verified
to compile, best first. Needs no model; always available."""

from fixloop.loop.offline.generator import DEFAULT_PRIOR, OfflineGenerator
from fixloop.loop.offline.templates import TEMPLATES

__all__ = ["DEFAULT_PRIOR", "TEMPLATES", "OfflineGenerator"]
