"""Ranking among candidates that pass the failing tests: weak tests let wrong edits pass,
so the order decides which passing candidate is offered."""

from __future__ import annotations

from dataclasses import dataclass

from fixloop.loop.model import Candidate
from fixloop.sandbox.results import CandidateResult


@dataclass
class Tried:
    """A candidate and its test result in this session."""

    candidate: Candidate
    result: CandidateResult
    agreement: int = 1
    order: int = 0  # the generators' own order: their best guess comes first


def rank_key(tried: Tried) -> tuple[int, int, int]:
    """Among candidates that pass: the one several generators agree on, then the smaller
    edit, then the generators' own order (most likely edit at the most suspicious line)."""
    return (-tried.agreement, tried.candidate.edit_size, tried.order)
