"""Minimal valid assignments for tests, created through the service (the only writer)."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from fangkong.assignments import services
from fangkong.assignments.models import Assignment
from fangkong.core import clock
from fangkong.core.actor import Actor
from fangkong.jurisdictions.models import Jurisdiction, Post
from fangkong.policy.editions import edition_text
from fangkong.policy.models import RulebookVersion
from fangkong.policy.services import rulebook_publish

_seq = itertools.count(1)
T0 = dt.datetime(2022, 1, 20, 1, 0, tzinfo=dt.UTC)  # 09:00 in the city


def publish_rulebook(actor: Actor) -> RulebookVersion:
    """The ninth edition, in force since well before T0 (escalation interval: 4 hours)."""
    return rulebook_publish(
        actor=actor,
        text=edition_text("ninth-edition-2022"),
        note="test",
        effective_from=dt.datetime(2021, 1, 1, tzinfo=dt.UTC),
    )


def assignment(actor: Actor, node: Jurisdiction, **kwargs: Any) -> Assignment:
    n = next(_seq)
    values: dict[str, Any] = {
        "kind": "verify_pushed_arrival",
        "title": f"Verify arrival {n}",
        "subject_type": "person",
        "subject_id": n,
        "due_at": clock.now() + dt.timedelta(hours=24),
    }
    values.update(kwargs)
    return services.assignment_create(actor=actor, jurisdiction=node, **values)


def post(node: Jurisdiction, kind: str, *, account_id: int | None = None, **extra: Any) -> Post:
    return Post.objects.create(
        jurisdiction=node,
        jurisdiction_path=node.path,
        kind=kind,
        holder_name=extra.pop("holder_name", "张三"),
        phone=extra.pop("phone", ""),
        account_id=account_id,
        **extra,
    )
