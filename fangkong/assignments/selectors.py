"""Every read of assignments; the caller's scope comes first.

Without Perm.ASSIGNMENT_VIEW a scope sees no work. An item escalated to an ancestor stays in
the subtree of that ancestor, so the ancestor's staff see it through the same rule.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Substr

from fangkong.assignments import rules
from fangkong.assignments.models import (
    Assignment,
    AssignmentDayTally,
    AssignmentEvent,
    AssignmentTally,
    Status,
)
from fangkong.core import clock
from fangkong.core.errors import Invalid, NotFound
from fangkong.core.perms import Perm
from fangkong.core.scope import Scope, path_prefix_q, within
from fangkong.jurisdictions.models import Jurisdiction, Post
from fangkong.jurisdictions.selectors import jurisdiction_children

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
DUE_SOON_HOURS = 6


def _visible(scope: Scope) -> QuerySet[Assignment]:
    if Perm.ASSIGNMENT_VIEW not in scope.perms:
        return Assignment.objects.none()
    return within(Assignment.objects.all(), scope)


def assignment_get(*, scope: Scope, assignment_id: int) -> Assignment:
    """One item with its node, post and holder. Raises NotFound when missing or not in scope."""
    item = (
        _visible(scope)
        .select_related("jurisdiction", "post", "escalated_to")
        .filter(pk=assignment_id)
        .first()
    )
    if item is None:
        raise NotFound("assignment.not_found", "Assignment not found")
    return item


def assignment_events(*, scope: Scope, assignment: Assignment) -> list[AssignmentEvent]:
    """The item's history, oldest first (the item was read through the scope already)."""
    if not scope.covers(assignment.jurisdiction_path):
        return []
    return list(AssignmentEvent.objects.filter(assignment=assignment).order_by("at", "id"))


@dataclass(frozen=True, slots=True)
class Page:
    items: list[Assignment]
    next_after: str | None


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICRO = dt.timedelta(microseconds=1)


def _cursor(item: Assignment) -> str:
    """URL-safe keyset cursor: the deadline in microseconds since the epoch, and the id."""
    return f"{(item.due_at - _EPOCH) // _MICRO}_{item.pk}"


def _after_q(after: str | None) -> Q:
    """Keyset: rows after (due_at, id) in the (due_at, id) order. Raises Invalid."""
    if not after:
        return Q()
    try:
        micros, _, pk = after.partition("_")
        due = _EPOCH + int(micros) * _MICRO
        last = int(pk)
    except (ValueError, OverflowError) as exc:
        raise Invalid("assignment.cursor", "Bad page cursor", field="after") from exc
    return Q(due_at__gt=due) | Q(due_at=due, pk__gt=last)


def _page(qs: QuerySet[Assignment], *, after: str | None, limit: int) -> Page:
    limit = max(1, min(limit, MAX_LIMIT))
    rows = list(
        qs.filter(_after_q(after))
        .select_related("jurisdiction", "escalated_to")
        .order_by("due_at", "id")[: limit + 1]
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, _cursor(rows[-1]) if more and rows else None)


def inbox(
    *,
    scope: Scope,
    user_id: int | None = None,
    status: str | None = None,
    after: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Page:
    """Active work in the scope, most urgent first (longest overdue, then soonest due).

    With `user_id`, only work on that user's own desk: items at a node where the user holds
    the post and not escalated away, and items escalated to such a node. `status` narrows to
    open or in_progress. Keyset-paginated on (due_at, id).
    """
    qs = _visible(scope).filter(closed_at__isnull=True)
    if status is not None:
        if status not in (Status.OPEN, Status.IN_PROGRESS):
            raise Invalid("assignment.status", "Status must be open or in_progress", field="status")
        qs = qs.filter(status=status)
    if user_id is not None:
        nodes = list(
            Post.objects.filter(account_id=user_id).values_list("jurisdiction_path", flat=True)
        )
        # By path, not id: the path columns are indexed, the foreign keys are not.
        qs = qs.filter(
            Q(jurisdiction_path__in=nodes, escalation_level=0) | Q(escalated_path__in=nodes)
        )
    return _page(qs, after=after, limit=limit)


def overdue_list(
    *,
    scope: Scope,
    node: Jurisdiction,
    after: str | None = None,
    limit: int = DEFAULT_LIMIT,
    now: dt.datetime | None = None,
) -> Page:
    """Overdue active work in the node's subtree, longest overdue first. Raises NotFound when
    the node is outside the scope."""
    _node_in_scope(scope, node)
    now = now or clock.now()
    qs = _subtree(_visible(scope), node).filter(closed_at__isnull=True, due_at__lt=now)
    return _page(qs, after=after, limit=limit)


def _node_in_scope(scope: Scope, node: Jurisdiction) -> None:
    if Perm.ASSIGNMENT_VIEW not in scope.perms or not scope.covers(node.path):
        raise NotFound("jurisdiction.not_found", "Jurisdiction not found")


def _subtree(qs: QuerySet[Assignment], node: Jurisdiction) -> QuerySet[Assignment]:
    return qs.filter(path_prefix_q("jurisdiction_path", node.path, vendor=_vendor(qs)))


def _vendor(qs: QuerySet[Assignment]) -> str:
    from django.db import connections

    return connections[qs.db].vendor


@dataclass
class Counts:
    active: int = 0
    in_progress: int = 0
    overdue: int = 0
    due_soon: int = 0
    done_today: int = 0

    @property
    def open(self) -> int:
        return self.active - self.in_progress

    def add(self, other: Counts) -> None:
        self.active += other.active
        self.in_progress += other.in_progress
        self.overdue += other.overdue
        self.due_soon += other.due_soon
        self.done_today += other.done_today


@dataclass
class KindRow:
    kind: str
    label: str
    counts: Counts


@dataclass
class ChildRow:
    node: Jurisdiction | None  # None: work held at the board's node itself
    counts: Counts


@dataclass
class Board:
    node: Jurisdiction
    now: dt.datetime
    due_soon_hours: int
    total: Counts
    by_kind: list[KindRow] = field(default_factory=list)
    by_child: list[ChildRow] = field(default_factory=list)


def board(
    *,
    scope: Scope,
    node: Jurisdiction,
    now: dt.datetime | None = None,
    due_soon_hours: int = DUE_SOON_HOURS,
) -> Board:
    """A node's work: active, due soon, overdue, done today; by kind and by child node.

    Four queries whatever the volume: the node's and its children's rows of the active tally,
    the same of today's completions (both kept by every write), the children, and the
    not-yet-escalated items due before the end of the due-soon window (a few hours of
    deadlines, read from an index). Raises NotFound when the node is outside the scope.
    """
    _node_in_scope(scope, node)
    now = now or clock.now()
    child_len = rules.PATH_LENGTH.get(node.level + 1, 0)
    # Work is grouped by the child whose subtree holds it; a grid has no children.
    child_of = Substr("jurisdiction_path", 1, child_len or rules.PATH_LENGTH[node.level])
    per_kind: dict[str, Counts] = defaultdict(Counts)
    per_child: dict[str, Counts] = defaultdict(Counts)

    # One read per counter table: the node's rows (by kind) and its children's (summed here).
    mine = Q(node_path=node.path) | Q(parent_path=node.path)
    for row in AssignmentTally.objects.filter(mine):
        c = per_kind[row.kind] if row.node_path == node.path else per_child[row.node_path]
        c.active += row.active
        c.in_progress += row.in_progress
        c.overdue += row.overdue
    today = clock.to_local(now).date()
    for day_row in AssignmentDayTally.objects.filter(mine, day=today):
        c = (
            per_kind[day_row.kind]
            if day_row.node_path == node.path
            else per_child[day_row.node_path]
        )
        c.done_today += day_row.done

    # Items not yet escalated whose deadline falls before the end of the window: those already
    # past it are overdue since the last pass, the rest are due soon.
    soon_end = now + dt.timedelta(hours=due_soon_hours)
    window_qs = Assignment.objects.filter(
        closed_at__isnull=True, escalation_level=0, due_at__lt=soon_end
    )
    if _vendor(window_qs) == "sqlite":
        # The subtree as a prefix test no index serves, on purpose: SQLite's planner took the
        # subtree's path range (all 150,000 active items of the city) over the few hours of
        # deadlines in asg_level0_due_idx (9,403 entries): 450 ms against 5 ms.
        window_qs = window_qs.alias(root=Substr("jurisdiction_path", 1, len(node.path))).filter(
            root=node.path
        )
    else:
        # PostgreSQL keeps the path range: the deadline range of either index that has it reads
        # the old versions of the rows the last pass moved too (dead until VACUUM: 65,882
        # entries for 9,403 live ones after a 56,479-item pass), whatever its statistics say.
        window_qs = _subtree(window_qs, node)
    window = (
        window_qs.annotate(child=child_of)
        .values("kind", "child")
        .annotate(
            # Counting a column of the index lets PostgreSQL answer from the index alone.
            late=Count("due_at", filter=Q(due_at__lt=now)),
            soon=Count("due_at", filter=Q(due_at__gte=now)),
        )
        .order_by()
    )
    for agg in window:
        for target in (per_kind[agg["kind"]], per_child[agg["child"]]):
            target.overdue += agg["late"]
            target.due_soon += agg["soon"]

    total = Counts()
    for c in per_kind.values():
        total.add(c)
    result = Board(node=node, now=now, due_soon_hours=due_soon_hours, total=total)
    result.by_kind = [
        KindRow(kind, rules.kind_label(kind), c)
        for kind, c in sorted(
            per_kind.items(), key=lambda kv: (-kv[1].overdue, -kv[1].active, kv[0])
        )
        if c.active or c.done_today
    ]
    children = list(jurisdiction_children(scope=scope, node=node)) if child_len else []
    placed = Counts()
    for child in children:
        c = per_child.pop(child.path, Counts())
        placed.add(c)
        result.by_child.append(ChildRow(child, c))
    own = _difference(total, placed)
    if child_len and (own.active or own.done_today or own.overdue):
        result.by_child.insert(0, ChildRow(None, own))
    return result


def _difference(total: Counts, placed: Counts) -> Counts:
    return Counts(
        active=total.active - placed.active,
        in_progress=total.in_progress - placed.in_progress,
        overdue=total.overdue - placed.overdue,
        due_soon=total.due_soon - placed.due_soon,
        done_today=total.done_today - placed.done_today,
    )
