"""The retention policy as data: per category, what is kept how long after its purpose ended,
and what happens then. Periods come from settings (environment); docs/security.md explains them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings


class Category(StrEnum):
    PERSON = "person"  # a person whose control ended and who has no open work
    MERGED_DUPLICATE = "merged_duplicate"  # a duplicate record merged into its survivor
    ORDER_NOTE = "order_note"  # free-text notes and lab references on ended control orders
    PERSON_NOTE = "person_note"  # visit and call notes
    NOTIFICATION = "notification"  # in-app notifications
    OUTBOUND_MESSAGE = "outbound_message"  # SMS and e-mail log with the recipient's number
    DONE_JOB = "done_job"  # finished background jobs (their payloads name records)
    ARRIVAL = "arrival"  # an arrival's identity (screening) and its assist items
    SENTINEL_RECORD = "sentinel_record"  # a pharmacy or clinic register line's buyer (sentinel)


@dataclass(frozen=True, slots=True)
class Rule:
    category: Category
    days: int
    starts: str  # when the clock starts: the end of the record's purpose
    action: str  # what `fangkong retention run` does then


def policy() -> list[Rule]:
    """The rules in force, from settings."""
    return [
        Rule(
            Category.PERSON,
            settings.FANGKONG_RETENTION_PERSON_DAYS,
            "release of the person's last control order (no active order, no open work)",
            "crypto-shred name, document number, phone, address, birth date and their blind "
            "indexes; delete notes; keep the row id",
        ),
        Rule(
            Category.MERGED_DUPLICATE,
            settings.FANGKONG_RETENTION_PERSON_DAYS,
            "the merge (every reference already points at the survivor)",
            "crypto-shred as for a person",
        ),
        Rule(
            Category.ORDER_NOTE,
            settings.FANGKONG_RETENTION_ORDER_NOTE_DAYS,
            "the order's end (released, cancelled, superseded, transferred, escalated)",
            "clear basis note and lab result references; the order stays, pseudonymous",
        ),
        Rule(
            Category.PERSON_NOTE,
            settings.FANGKONG_RETENTION_NOTE_DAYS,
            "the note's creation",
            "delete",
        ),
        Rule(
            Category.NOTIFICATION,
            settings.FANGKONG_RETENTION_NOTIFICATION_DAYS,
            "the notification's creation",
            "delete",
        ),
        Rule(
            Category.OUTBOUND_MESSAGE,
            settings.FANGKONG_RETENTION_OUTBOUND_DAYS,
            "the message's sending",
            "delete",
        ),
        Rule(
            Category.ARRIVAL,
            settings.FANGKONG_RETENTION_ARRIVAL_DAYS,
            "the arrival's verification (verified, not reached or transferred)",
            "crypto-shred name, document number, phone, address, notes and the document's "
            "blind indexes (also on its assist items); the row and the board's counts stay",
        ),
        Rule(
            Category.SENTINEL_RECORD,
            settings.FANGKONG_RETENTION_SENTINEL_DAYS,
            "the register line's filing",
            "crypto-shred the buyer's (and proxy's) name, document number, phone, their blind "
            "indexes and the free-text history; the line's counts and the daily series stay",
        ),
        Rule(
            Category.DONE_JOB,
            settings.FANGKONG_JOB_RETENTION_DAYS,
            "the job's completion",
            "delete",
        ),
    ]


def cutoffs(now: dt.datetime) -> dict[Category, dt.datetime]:
    """For each category, the instant before which a record's purpose must have ended."""
    return {rule.category: now - dt.timedelta(days=rule.days) for rule in policy()}
