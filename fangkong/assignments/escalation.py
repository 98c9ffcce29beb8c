"""The overdue pass: overdue work climbs one level up the tree per escalation interval.

Set-based: one UPDATE per (tree level, escalation level) pair -- 16 for a six-level tree --
whatever the number of items. An item moves only when the level it should be at is above
the level it is at, so a second pass at the same instant (or a retried job) does nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, Substr

from fangkong.assignments import rules, tally
from fangkong.assignments.models import Assignment, AssignmentEvent
from fangkong.audit.services import record
from fangkong.core import clock
from fangkong.core.actor import system_actor
from fangkong.jurisdictions.models import Jurisdiction, Post
from fangkong.notifications.services import notify_post
from fangkong.policy.selectors import rulebook_in_force

logger = logging.getLogger("fangkong.assignments")

# Any constant: serializes passes on PostgreSQL (SQLite's IMMEDIATE transactions already do).
_PASS_LOCK = 0x46_4B_41_53  # "FKAS"


@dataclass(frozen=True, slots=True)
class PassResult:
    moved: int
    newly_overdue: int
    holders: int


def _lock_pass() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_PASS_LOCK])


def _window_q(window: rules.Window) -> Q:
    q = Q(due_at__lte=window.until) if window.until_inclusive else Q(due_at__lt=window.until)
    if window.after is not None:
        q &= Q(due_at__gt=window.after)
    return q


def escalate_overdue(*, now: dt.datetime | None = None) -> int:
    """Move overdue work to the node it should be held by now; returns how many items moved.

    Raises Conflict when no rulebook is in force (the interval comes from it).
    """
    return escalate_pass(now=now).moved


@transaction.atomic
def escalate_pass(*, now: dt.datetime | None = None) -> PassResult:
    """`escalate_overdue` with the pass's figures."""
    now = now or clock.now()
    in_force = rulebook_in_force(at=now)
    interval = dt.timedelta(hours=in_force.book.escalation_interval_hours)
    _lock_pass()
    moved = 0
    active = Assignment.objects.filter(closed_at__isnull=True)
    for level in rules.LEVELS:
        cap = rules.max_escalation(level)
        for window in rules.escalation_windows(now=now, interval=interval, cap=cap):
            holder_len = rules.PATH_LENGTH[rules.holder_level(level, window.level)]
            holder = Substr(F("jurisdiction_path"), 1, holder_len)
            holder_id = Jurisdiction.objects.filter(
                path=Substr(OuterRef("jurisdiction_path"), 1, holder_len)
            ).values("id")[:1]
            moved += (
                active.filter(_window_q(window))
                .filter(jurisdiction_level=level, escalation_level__lt=window.level)
                .update(
                    escalation_level=window.level,
                    escalated_path=holder,
                    escalated_to_id=Subquery(holder_id),
                    escalated_at=now,
                    overdue_since=Coalesce(F("overdue_since"), Value(now)),
                    updated_at=now,
                )
            )
    if not moved:
        return PassResult(0, 0, 0)
    moved_now = Assignment.objects.filter(escalated_at=now)
    newly_overdue = tally.add_newly_overdue(at=now)
    _history(now)
    holders = _notify_holders(moved_now, now)
    record(
        actor=system_actor("escalation"),
        action="assignments.escalate",
        target_type="assignments.pass",
        target_id=now.isoformat(),
        detail={
            "moved": moved,
            "newly_overdue": newly_overdue,
            "holders": holders,
            "policy_version": in_force.version,
            "interval_hours": in_force.book.escalation_interval_hours,
        },
    )
    logger.info("escalation pass at %s moved %d items to %d holders", now, moved, holders)
    return PassResult(moved, newly_overdue, holders)


def _history(now: dt.datetime) -> None:
    """One history event per moved item: INSERT ... SELECT, no rows through Python."""
    e = connection.ops.quote_name(AssignmentEvent._meta.db_table)
    a = connection.ops.quote_name(Assignment._meta.db_table)
    stamp = connection.ops.adapt_datetimefield_value(now)
    # JSON for the detail column: SQLite stores text, PostgreSQL needs a jsonb cast.
    empty = "'{}'::jsonb" if connection.vendor == "postgresql" else "'{}'"
    sql = (
        f"INSERT INTO {e} (assignment_id, at, action, actor_label, from_status, to_status, "  # noqa: S608 - names from the models, values bound
        f"note, detail) SELECT id, %s, %s, %s, status, status, escalated_path, {empty} "
        f"FROM {a} WHERE escalated_at = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [stamp, AssignmentEvent.Action.ESCALATED.value, "escalation", stamp])


def _notify_holders(moved_now: QuerySet[Assignment], now: dt.datetime) -> int:
    """One notification per holder node per pass, to its responsible post, whatever the count."""
    counts = dict(
        moved_now.order_by()
        .values_list("escalated_to_id")
        .annotate(n=Count("id"))
        .values_list("escalated_to_id", "n")
    )
    nodes = {
        n.pk: n for n in Jurisdiction.objects.filter(pk__in=list(counts)).only("level", "code")
    }
    kinds = {pk: rules.RESPONSIBLE_POST[n.level] for pk, n in nodes.items()}
    posts = Post.objects.filter(
        jurisdiction_id__in=list(kinds), is_primary=True, kind__in=set(kinds.values())
    ).order_by("id")
    chosen: dict[int, Post] = {}
    for post in posts:
        if post.kind == kinds.get(post.jurisdiction_id) and post.jurisdiction_id not in chosen:
            chosen[post.jurisdiction_id] = post
    stamp = now.isoformat()
    for node_id, post in chosen.items():
        n = counts[node_id]
        code = nodes[node_id].code
        notify_post(
            post_id=post.pk,
            subject=f"{n} overdue items escalated to you",
            body=f"{n} overdue work items in your area now need your attention.",
            link=f"/assignments/board/{code}/overdue/",
            kind="escalation",
            dedupe_key=f"assignments.escalate:{stamp}:{node_id}",
        )
    return len(counts)
