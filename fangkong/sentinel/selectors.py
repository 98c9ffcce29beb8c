"""Every read of the sentinel module; the first keyword argument is always `scope`. A row
outside the scope is reported exactly like a missing one. Lists are keyset-paginated."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Generic, TypeVar

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum

from fangkong.core.errors import NotAllowed, NotFound
from fangkong.core.perms import Perm
from fangkong.core.scope import Scope, within
from fangkong.jurisdictions.models import Jurisdiction
from fangkong.sentinel.models import Alert, DailyReport, Registration, SeriesCount, Unit
from fangkong.sentinel.services.alerts import behind_alert

PAGE_SIZE = 50
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next_after: int | None


def _need(scope: Scope, *perms: Perm) -> None:
    if not any(p in scope.perms for p in perms):
        raise NotAllowed(
            "permission_denied", f"Missing permission {perms[0].value}", perm=perms[0].value
        )


def _page(qs: QuerySet[T], after: int | None, limit: int) -> Page[T]:  # type: ignore[type-var]
    limit = max(1, min(limit, 200))
    if after is not None:
        qs = qs.filter(pk__lt=after)
    items = list(qs.order_by("-pk")[: limit + 1])
    more = len(items) > limit
    items = items[:limit]
    return Page(items=items, next_after=items[-1].pk if more and items else None)  # type: ignore[attr-defined]


# --- units ---------------------------------------------------------------------------------


def unit_get(*, scope: Scope, unit_id: int) -> Unit:
    """A unit in scope (for staff who view or manage, and for its reporters)."""
    _need(scope, Perm.SENTINEL_VIEW, Perm.SENTINEL_REPORT, Perm.SENTINEL_MANAGE)
    unit = within(Unit.objects.select_related("jurisdiction"), scope).filter(pk=unit_id).first()
    if unit is None:
        raise NotFound("sentinel.unit_not_found", "Reporting unit not found")
    return unit


def unit_list(
    *, scope: Scope, kind: str = "", after: int | None = None, limit: int = PAGE_SIZE
) -> Page[Unit]:
    _need(scope, Perm.SENTINEL_VIEW)
    qs = within(Unit.objects.select_related("jurisdiction"), scope)
    if kind:
        qs = qs.filter(kind=kind)
    return _page(qs, after, limit)


def units_by_ids(*, scope: Scope, unit_ids: list[int]) -> list[Unit]:
    """The units of a reporter (its operator links), in scope."""
    return list(within(Unit.objects.filter(pk__in=unit_ids, active=True), scope).order_by("name"))


# --- registers -----------------------------------------------------------------------------


def registration_list(
    *,
    scope: Scope,
    unit: Unit | None = None,
    day: dt.date | None = None,
    flagged: bool = False,
    test_required: bool = False,
    after: int | None = None,
    limit: int = PAGE_SIZE,
) -> Page[Registration]:
    """Register lines, newest first. A reporter sees its unit's (pass `unit`)."""
    if unit is None:
        _need(scope, Perm.SENTINEL_VIEW)
    else:
        _need(scope, Perm.SENTINEL_VIEW, Perm.SENTINEL_REPORT, Perm.SENTINEL_MANAGE)
    qs = within(Registration.objects.select_related("unit"), scope)
    if unit is not None:
        qs = qs.filter(unit=unit)
    if day is not None:
        qs = qs.filter(day=day)
    if flagged:
        qs = qs.filter(Q(repeat_buyer=True) | Q(proxy_buyer=True))
    if test_required:
        qs = qs.filter(test_status=Registration.Test.ASSIGNED)
    return _page(qs, after, limit)


def registration_get(*, scope: Scope, registration_id: int) -> Registration:
    _need(scope, Perm.SENTINEL_VIEW, Perm.SENTINEL_REPORT, Perm.SENTINEL_MANAGE)
    reg = (
        within(Registration.objects.select_related("unit", "home_grid"), scope)
        .filter(pk=registration_id)
        .first()
    )
    if reg is None:
        raise NotFound("sentinel.registration_not_found", "Record not found")
    return reg


# --- daily reports -------------------------------------------------------------------------


def missing_reports(
    *, scope: Scope, day: dt.date, after: int | None = None, limit: int = PAGE_SIZE
) -> Page[Unit]:
    """Active units that filed nothing for `day`: no records and no zero report."""
    _need(scope, Perm.SENTINEL_VIEW)
    filed = DailyReport.objects.filter(unit=OuterRef("pk"), day=day)
    qs = within(Unit.objects.filter(active=True), scope).filter(~Exists(filed))
    return _page(qs.select_related("jurisdiction"), after, limit)


@dataclass(frozen=True, slots=True)
class ReportFigures:
    units: int
    filed: int
    zero: int

    @property
    def missing(self) -> int:
        return self.units - self.filed


def report_figures(*, scope: Scope, day: dt.date) -> ReportFigures:
    """How many units in scope filed the day, how many of them with a zero report."""
    _need(scope, Perm.SENTINEL_VIEW)
    units = within(Unit.objects.filter(active=True), scope).count()
    reports = within(DailyReport.objects.filter(day=day, unit__active=True), scope).aggregate(
        filed=Count("id"), zero=Count("id", filter=Q(zero=True))
    )
    return ReportFigures(units=units, filed=reports["filed"], zero=reports["zero"])


def unit_reports(
    *, scope: Scope, unit: Unit, start: dt.date, end: dt.date
) -> dict[dt.date, DailyReport]:
    _need(scope, Perm.SENTINEL_VIEW, Perm.SENTINEL_REPORT, Perm.SENTINEL_MANAGE)
    rows = within(DailyReport.objects.filter(unit=unit, day__gte=start, day__lte=end), scope)
    return {r.day: r for r in rows}


# --- series --------------------------------------------------------------------------------


def series(
    *, scope: Scope, level: str, ref: str, stream: str, start: dt.date, end: dt.date
) -> list[tuple[dt.date, int]]:
    """A dense daily series (days without a row count zero). Raises NotFound outside scope."""
    _need(scope, Perm.SENTINEL_VIEW)
    if (end - start).days > 3 * 366 or end < start:
        raise NotFound("sentinel.series_not_found", "Series not found")
    rows = within(
        SeriesCount.objects.filter(
            level=level, ref=ref, stream=stream, day__gte=start, day__lte=end
        ),
        scope,
    ).values_list("day", "count")
    counts = dict(rows)
    return [
        (start + dt.timedelta(days=i), counts.get(start + dt.timedelta(days=i), 0))
        for i in range((end - start).days + 1)
    ]


def stream_totals(*, scope: Scope, day: dt.date) -> dict[str, int]:
    """Records per stream on a day, from the district series (pre-aggregated)."""
    _need(scope, Perm.SENTINEL_VIEW)
    rows = (
        within(SeriesCount.objects.filter(day=day, level="district"), scope)
        .values_list("stream")
        .annotate(n=Sum("count"))
        .order_by()
    )
    return {stream: int(n or 0) for stream, n in rows}


# --- alerts --------------------------------------------------------------------------------


def alert_list(
    *, scope: Scope, status: str = "", after: int | None = None, limit: int = PAGE_SIZE
) -> Page[Alert]:
    _need(scope, Perm.SENTINEL_VIEW)
    qs = within(Alert.objects.all(), scope)
    if status:
        qs = qs.filter(status=status)
    return _page(qs, after, limit)


def alert_get(*, scope: Scope, alert_id: int) -> Alert:
    _need(scope, Perm.SENTINEL_VIEW)
    alert = within(Alert.objects.all(), scope).filter(pk=alert_id).first()
    if alert is None:
        raise NotFound("sentinel.alert_not_found", "Alert not found")
    return alert


@dataclass(frozen=True, slots=True)
class GridCount:
    code: str
    name: str
    count: int


@dataclass(frozen=True, slots=True)
class Evidence:
    records: list[Registration]  # at most EVIDENCE_RECORDS, newest first
    total: int
    grids: list[GridCount]  # where the people behind the count live, by grid
    unknown_home: int  # people the registry does not know


EVIDENCE_RECORDS = 200


def alert_evidence(*, scope: Scope, alert: Alert) -> Evidence:
    """The register lines behind an alert's count and where those people live (grid level:
    addresses are not shown, only the grid)."""
    _need(scope, Perm.SENTINEL_VIEW)
    if not scope.covers(alert.jurisdiction_path):
        raise NotFound("sentinel.alert_not_found", "Alert not found")
    qs = behind_alert(alert)
    total = qs.count()
    records = list(qs.select_related("unit").order_by("-pk")[:EVIDENCE_RECORDS])
    by_grid = list(
        qs.filter(home_grid__isnull=False)
        .values_list("home_grid_id")
        .annotate(n=Count("id"))
        .order_by("-n")[:100]
    )
    nodes = Jurisdiction.objects.in_bulk([g for g, _ in by_grid])
    grids = [
        GridCount(code=nodes[g].code, name=nodes[g].name, count=n) for g, n in by_grid if g in nodes
    ]
    unknown = qs.filter(home_grid__isnull=True).count()
    return Evidence(records=records, total=total, grids=grids, unknown_home=unknown)


@dataclass(frozen=True, slots=True)
class Summary:
    """The sentinel figures of the dashboard (command office) for a scope and day."""

    day: dt.date
    open_alerts: int
    overdue_alerts: int
    outcomes: dict[str, int]  # closed alerts of the last 30 days by outcome
    reports: ReportFigures
    streams: dict[str, int]


def sentinel_summary(*, scope: Scope, day: dt.date, now: dt.datetime) -> Summary:
    """A few aggregate queries over indexed, pre-aggregated tables."""
    _need(scope, Perm.SENTINEL_VIEW)
    alerts = within(Alert.objects.all(), scope)
    open_ = alerts.filter(status=Alert.Status.OPEN)
    outcomes = dict(
        alerts.filter(
            status=Alert.Status.CLOSED, day__gte=max(day, dt.date(1, 2, 1)) - dt.timedelta(days=30)
        )
        .values_list("outcome")
        .annotate(n=Count("id"))
        .order_by()
    )
    return Summary(
        day=day,
        open_alerts=open_.count(),
        overdue_alerts=open_.filter(due_at__lt=now).count(),
        outcomes=outcomes,
        reports=report_figures(scope=scope, day=day),
        streams=stream_totals(scope=scope, day=day),
    )
