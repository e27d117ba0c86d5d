"""Which generators a session uses: the engine setting (`auto`, `offline`, `llm`) and
whether a model is configured."""

from __future__ import annotations

from fixloop.config import Settings
from fixloop.loop.model import Generator, GeneratorUnavailable, Reviewer

__all__ = ["GeneratorUnavailable", "generators_for", "model_configured", "reviewer_for"]


def model_configured(settings: Settings) -> bool:
    return bool(settings.llm.model)


def generators_for(engine: str, settings: Settings) -> list[Generator]:
    """`offline`: the templates alone. `llm`: the model alone. `auto`: the model first
    when one is configured, the templates after it (they need nothing and often suffice)."""
    from fixloop.loop.offline import OfflineGenerator

    if engine == "offline":
        return [OfflineGenerator()]
    if engine == "llm" and not model_configured(settings):
        raise GeneratorUnavailable(
            "--engine llm needs a model: set llm.model (and llm.base-url for a local "
            "endpoint) in [tool.fixloop] or FIXLOOP_LLM_MODEL"
        )
    if not model_configured(settings):
        return [OfflineGenerator()]
    from fixloop.loop.llm import LlmGenerator

    model = LlmGenerator(settings.llm)
    return [model] if engine == "llm" else [model, OfflineGenerator()]


def reviewer_for(settings: Settings, generators: list[Generator]) -> Reviewer | None:
    """The model of the session as reviewer, when `llm.review` is on and a model takes
    part (its requests and tokens then count in the same usage)."""
    if not settings.llm.review:
        return None
    return next((g for g in generators if isinstance(g, Reviewer)), None)
