"""Every read of arrival screening; the first keyword argument is the caller's scope.

Outside the scope looks missing. Lists are keyset-paginated on indexed columns; the board
reads the pre-aggregated `ArrivalTally` rows of a node and its children, plus two live counts
of unverified arrivals from partial indexes (overdue, and unverified over the rulebook's hours).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import connections
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Substr

from fangkong.core import clock
from fangkong.core.errors import NotAllowed, NotFound
from fangkong.core.perms import Perm
from fangkong.core.scope import Scope, path_prefix_q, within
from fangkong.jurisdictions.models import Jurisdiction
from fangkong.policy.selectors import rulebook_in_force
from fangkong.screening import rules
from fangkong.screening.models import (
    Arrival,
    ArrivalSource,
    ArrivalTally,
    AssistItem,
    AssistRequest,
    ImportBatch,
)

PAGE_MAX = 200
LIVE_KEYS = ("overdue", "stale")
DRILL_KEYS = (*rules.TALLY_KEYS, *LIVE_KEYS, "open")


def _check(scope: Scope) -> None:
    if Perm.SCREENING_VIEW not in scope.perms:
        raise NotAllowed("permission_denied", "Missing permission screening.view")


def _vendor(qs: QuerySet[Arrival]) -> str:
    return connections[qs.db].vendor


def arrival_get(*, scope: Scope, arrival_id: int) -> Arrival:
    """One arrival. Raises NotFound when missing or outside the scope."""
    _check(scope)
    found = (
        within(Arrival.objects.select_related("jurisdiction"), scope).filter(pk=arrival_id).first()
    )
    if found is None:
        raise NotFound("screening.arrival_not_found", "Arrival not found")
    return found


def arrival_sources(*, scope: Scope, arrival: Arrival) -> list[ArrivalSource]:
    arrival_get(scope=scope, arrival_id=arrival.pk)
    return list(arrival.sources.order_by("received_at", "id")[:50])


def _drill(key: str, *, now: dt.datetime, stale_hours: int) -> Q:
    return {
        "received": Q(),
        "open": Q(status="received"),
        "verified": Q(status="verified"),
        "not_reached": Q(status="not_reached"),
        "transferred": Q(status="transferred"),
        "under_control": Q(under_control=True),
        "sampled": ~Q(sample_ref=""),
        "duplicates": Q(source_count__gt=1),
        "not_in_city": Q(status="not_reached", not_reached_reason__in=rules.NOT_IN_CITY_REASONS),
        "unplaced": Q(placed=False, closed_at__isnull=True),
        "overdue": Q(status="received", due_at__lt=now),
        "stale": Q(status="received", created_at__lt=now - dt.timedelta(hours=stale_hours)),
    }[key]


@dataclass(frozen=True, slots=True)
class Page:
    items: list[Arrival]
    next_after: str | None


def arrival_list(
    *,
    scope: Scope,
    node: Jurisdiction | None = None,
    key: str = "received",
    after: str | None = None,
    limit: int = 50,
) -> Page:
    """Arrivals in scope (under `node`), newest first, filtered by a board figure's key.
    `after` is the previous page's cursor ("<created_at iso>|<id>")."""
    _check(scope)
    if key not in DRILL_KEYS:
        key = "received"
    qs = within(Arrival.objects.select_related("jurisdiction"), scope)
    if node is not None:
        if not scope.covers(node.path):
            raise NotFound("jurisdiction.not_found", "Jurisdiction not found")
        qs = qs.filter(path_prefix_q("jurisdiction_path", node.path, vendor=_vendor(qs)))
    stale = rulebook_in_force().book.screening.stale_unverified_hours
    qs = qs.filter(_drill(key, now=clock.now(), stale_hours=stale))
    if after:
        at_text, _, pk_text = after.partition("|")
        try:
            at, pk = dt.datetime.fromisoformat(at_text), int(pk_text)
        except ValueError:
            at, pk = None, 0
        if at is not None:
            if at.tzinfo is None:
                at = at.replace(tzinfo=dt.UTC)
            qs = qs.filter(Q(created_at__lt=at) | Q(created_at=at, id__lt=pk))
    limit = max(1, min(limit, PAGE_MAX))
    items = list(qs.order_by("-created_at", "-id")[: limit + 1])
    more = len(items) > limit
    items = items[:limit]
    cursor = f"{items[-1].created_at.isoformat()}|{items[-1].pk}" if more and items else None
    return Page(items, cursor)


# --- the board ---------------------------------------------------------------------------------


@dataclass(slots=True)
class Figures:
    values: dict[str, int] = field(default_factory=dict)

    def __getitem__(self, key: str) -> int:
        return self.values.get(key, 0)


@dataclass(frozen=True, slots=True)
class BoardRow:
    node: Jurisdiction
    figures: Figures


@dataclass(frozen=True, slots=True)
class Board:
    node: Jurisdiction
    figures: Figures
    children: list[BoardRow]
    keys: tuple[str, ...] = (*rules.TALLY_KEYS, *LIVE_KEYS)


def board(*, scope: Scope, node: Jurisdiction) -> Board:
    """The board of a node and its children: tallies plus overdue and stale live counts.
    Raises NotFound outside the scope."""
    _check(scope)
    if not scope.covers(node.path):
        raise NotFound("jurisdiction.not_found", "Jurisdiction not found")
    children = list(Jurisdiction.objects.filter(parent=node).order_by("code"))
    figures: dict[str, Figures] = {node.path: Figures(), **{c.path: Figures() for c in children}}
    rows = ArrivalTally.objects.filter(Q(node_path=node.path) | Q(parent_path=node.path))
    for path, key, count in rows.values_list("node_path", "key", "count"):
        if path in figures:
            figures[path].values[key] = count
    now = clock.now()
    stale_hours = rulebook_in_force().book.screening.stale_unverified_hours
    _live(node, children, figures, now=now, stale_hours=stale_hours)
    return Board(
        node=node,
        figures=figures[node.path],
        children=[BoardRow(c, figures[c.path]) for c in children],
    )


def _live(
    node: Jurisdiction,
    children: list[Jurisdiction],
    figures: dict[str, Figures],
    *,
    now: dt.datetime,
    stale_hours: int,
) -> None:
    """Overdue and stale unverified arrivals, per child, in one scan of `arrival_open_idx`
    (both conditions read only columns of that index)."""
    qs = Arrival.objects.filter(status="received")
    qs = qs.filter(path_prefix_q("jurisdiction_path", node.path, vendor=_vendor(qs)))
    # Counted over index columns (never NULL), not the id: PostgreSQL then reads the index
    # alone (an index-only scan), without visiting the table.
    counts = {
        key: Count(column, filter=_drill(key, now=now, stale_hours=stale_hours))
        for key, column in zip(LIVE_KEYS, ("due_at", "created_at"), strict=True)
    }
    # Children's paths have one length (codes have a fixed length per level): group by it.
    length = len(children[0].path) if children else len(node.path)
    grouped = (
        qs.annotate(child=Substr("jurisdiction_path", 1, length))
        .values("child")
        .annotate(**counts)
        .values_list("child", *LIVE_KEYS)
    )
    totals = dict.fromkeys(LIVE_KEYS, 0)
    for child, *values in grouped:
        for key, n in zip(LIVE_KEYS, values, strict=True):
            totals[key] += n
            if child in figures and child != node.path:
                figures[child].values[key] = n
    figures[node.path].values.update(totals)


# --- assist requests and batches -----------------------------------------------------------------


def _assist_visible(scope: Scope) -> QuerySet[AssistRequest]:
    """Requests the scope received or sent."""
    _check(scope)
    if not scope.paths:
        return AssistRequest.objects.none()
    if "/" in scope.paths:
        return AssistRequest.objects.all()
    q = Q()
    for root in scope.paths:
        q |= Q(jurisdiction_path__startswith=root) | Q(from_path__startswith=root)
    return AssistRequest.objects.filter(q)


def assist_get(*, scope: Scope, request_id: int) -> AssistRequest:
    """An assist request the scope sent or received. Raises NotFound otherwise."""
    found = (
        _assist_visible(scope)
        .select_related("from_jurisdiction", "to_jurisdiction")
        .filter(pk=request_id)
        .first()
    )
    if found is None:
        raise NotFound("screening.assist_not_found", "Assist request not found")
    return found


def assist_items(*, scope: Scope, request: AssistRequest) -> list[AssistItem]:
    assist_get(scope=scope, request_id=request.pk)
    return list(request.items.select_related("arrival").order_by("id")[:1000])


def assist_list(*, scope: Scope, box: str = "inbox", limit: int = 100) -> list[AssistRequest]:
    """Received ("inbox") or sent ("outbox") requests in scope, newest first."""
    _check(scope)
    field = "jurisdiction_path" if box == "inbox" else "from_path"
    qs = within(AssistRequest.objects.all(), scope, field_name=field)
    return list(
        qs.select_related("from_jurisdiction", "to_jurisdiction").order_by("-created_at", "-id")[
            : max(1, min(limit, PAGE_MAX))
        ]
    )


def batch_get(*, scope: Scope, batch_id: int) -> ImportBatch:
    _check(scope)
    found = within(ImportBatch.objects.defer("content"), scope).filter(pk=batch_id).first()
    if found is None:
        raise NotFound("screening.batch_not_found", "Import not found")
    return found


def batch_list(*, scope: Scope, limit: int = 50) -> list[ImportBatch]:
    _check(scope)
    return list(
        within(ImportBatch.objects.defer("content", "errors"), scope).order_by(
            "-created_at", "-id"
        )[: max(1, min(limit, PAGE_MAX))]
    )
