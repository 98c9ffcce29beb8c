"""Identities the operations modules hold outside the registry, and their retention.

An arrival (screening) keeps the name, document number, phone and address it came with, and
an assist item the document's blind index; a pharmacy or clinic register line (sentinel) keeps
the buyer's identity and free-text health history. They serve the verification and the 48 h
follow-up; the counts built from them (board tallies, daily series) are kept apart and survive.
Past their period these rows are crypto-shredded like persons: encrypted fields emptied, blind
indexes cleared (the document index gets the unique tombstone `purged:<id>`, as it is unique
among open arrivals), free text cleared; the row stays, pseudonymous, for the counts and the
audit trail. Every chunk is recorded in the purge ledger (category = the model's label), so a
restore from an older backup shreds them again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import models, transaction
from django.db.models import CharField, Q, QuerySet, Value
from django.db.models.functions import Cast, Concat

from fangkong.maintenance import ledger
from fangkong.maintenance.ledger import TOMBSTONE
from fangkong.maintenance.policy import Category
from fangkong.screening.models import Arrival, ArrivalStatus, AssistItem
from fangkong.sentinel.models import Registration


def _tombstone() -> Concat:
    return Concat(Value(TOMBSTONE), Cast("pk", output_field=CharField()))


def _assist_items(arrival_ids: list[int]) -> None:
    AssistItem.objects.filter(arrival_id__in=arrival_ids).update(
        doc_bidx=_tombstone(), note="", outcome_note=""
    )


@dataclass(frozen=True)
class Held:
    category: Category
    model: type[models.Model]
    ended: Callable[[dt.datetime], Q]  # rows whose purpose ended before the cutoff
    cleared: Callable[[], Mapping[str, Any]]  # column -> value after the shred
    related: Callable[[list[int]], None] | None = None  # rows that shred with them

    @property
    def label(self) -> str:
        return self.model._meta.label_lower

    def past(self, cutoff: dt.datetime) -> QuerySet[Any]:
        return self.model._default_manager.filter(self.ended(cutoff)).exclude(
            doc_bidx__startswith=TOMBSTONE
        )

    def shred(self, ids: list[int]) -> int:
        """Empty the identity of these rows (those not shredded already). One UPDATE."""
        if self.related is not None:
            self.related(ids)
        return (
            self.model._default_manager.filter(pk__in=ids)
            .exclude(doc_bidx__startswith=TOMBSTONE)
            .update(**self.cleared())
        )


HELD: tuple[Held, ...] = (
    Held(
        Category.ARRIVAL,
        Arrival,
        # verified, not reached or transferred: its verification is over
        ended=lambda cut: ~Q(status=ArrivalStatus.RECEIVED) & Q(updated_at__lt=cut),
        cleared=lambda: {
            "name": "",
            "doc_number": "",
            "phone": "",
            "address": "",
            "notes": "",
            "doc_bidx": _tombstone(),
        },
        related=_assist_items,
    ),
    Held(
        Category.SENTINEL_RECORD,
        Registration,
        ended=lambda cut: Q(created_at__lt=cut),
        cleared=lambda: {
            "name": "",
            "doc_number": "",
            "phone": "",
            "phone_bidx": "",
            "for_name": "",
            "for_doc_bidx": "",
            "other_symptoms": "",
            "travel_history": "",
            "contact_history": "",
            "doc_bidx": _tombstone(),
        },
    ),
)
BY_LABEL = {h.label: h for h in HELD}


def held_purge(held: Held, cutoff: dt.datetime, *, run_id: str, chunk_size: int) -> int:
    """Shred every row of `held` past `cutoff`, chunk by chunk (a transaction and a ledger
    line each). Returns how many rows were shredded."""
    total, last = 0, 0
    qs = held.past(cutoff)
    while True:
        with transaction.atomic():
            rows = list(
                qs.filter(pk__gt=last).order_by("pk").values_list("pk", "created_at")[:chunk_size]
            )
            if not rows:
                return total
            ids = [pk for pk, _ in rows]
            total += held.shred(ids)
            # Before the commit: a purge that committed is always in the file.
            ledger.append(
                run=run_id,
                category=held.label,
                reason="retention",
                ids=ids,
                created=[ledger.stamp(at) for _, at in rows],
            )
            last = ids[-1]


def held_reapply(entry: ledger.Entry) -> int:
    """Shred again the rows of a ledger entry of a held identity (after a restore): the same
    rows, not merely the same ids (their creation time must match)."""
    held = BY_LABEL[entry.category]
    named = dict(zip(entry.ids, entry.created, strict=True))
    with transaction.atomic():
        ids = [
            pk
            for pk, at in held.model._default_manager.filter(pk__in=entry.ids).values_list(
                "pk", "created_at"
            )
            if ledger.stamp(at) == named[pk]
        ]
        return held.shred(ids) if ids else 0
