"""Reading the rulebook in force. Policy is city-wide: no jurisdiction scope applies."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

from django.db.models import QuerySet

from fangkong.core import clock
from fangkong.core.errors import Conflict, NotFound
from fangkong.policy.models import RulebookVersion
from fangkong.policy.schema import Rulebook, parse_rulebook


@dataclass(frozen=True, slots=True)
class BookInForce:
    version: int
    book: Rulebook


@lru_cache(maxsize=16)
def _parsed(version: int, sha256: str, text: str) -> Rulebook:
    return parse_rulebook(text)


def rulebook_in_force(*, at: dt.datetime | None = None) -> BookInForce:
    """The latest version effective at `at` (default now). Raises Conflict when none is published."""
    at = at or clock.now()
    row = (
        RulebookVersion.objects.filter(effective_from__lte=at)
        .order_by("-effective_from", "-version")
        .only("version", "sha256", "text")
        .first()
    )
    if row is None:
        raise Conflict(
            "policy.none", "No rulebook is in force; publish one with `fangkong policy load`"
        )
    return BookInForce(version=row.version, book=_parsed(row.version, row.sha256, row.text))


def rulebook_version_get(*, version: int) -> RulebookVersion:
    row = RulebookVersion.objects.filter(version=version).first()
    if row is None:
        raise NotFound("policy.version_not_found", f"No rulebook version {version}")
    return row


def rulebook_history() -> QuerySet[RulebookVersion]:
    return RulebookVersion.objects.order_by("-version").defer("text")
