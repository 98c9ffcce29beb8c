"""The people services' single-record scope check (lists use `core.scope.within`)."""

from __future__ import annotations

from fangkong.core.actor import Actor
from fangkong.core.errors import NotFound


def check_in_scope(actor: Actor, path: str) -> None:
    """Raise the same NotFound as a missing row: "not yours" must not be distinguishable."""
    if not actor.scope.covers(path):
        raise NotFound("person.not_found", "Person not found")
