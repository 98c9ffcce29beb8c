"""Every read of investigation and source tracing; the first keyword argument is the scope.

Out of scope looks exactly like missing (NotFound). Lists are keyset pages (no COUNT).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from django.db.models import QuerySet

from fangkong.core import clock
from fangkong.core.errors import NotAllowed, NotFound
from fangkong.core.perms import Perm
from fangkong.core.scope import Scope, within
from fangkong.lake import selectors as lake_selectors
from fangkong.places.models import Place
from fangkong.policy.sections.tracing import TracingRules
from fangkong.tracing import rules
from fangkong.tracing.models import (
    Case,
    Cluster,
    Contact,
    CopresenceRun,
    Investigation,
    TrajectoryEntry,
)
from fangkong.tracing.rules import Step

MAX_LIMIT = 500


def _check(scope: Scope) -> None:
    if Perm.TRACING_VIEW not in scope.perms:
        raise NotAllowed(
            "permission_denied", "Missing permission tracing.view", perm="tracing.view"
        )


def _cases(scope: Scope) -> QuerySet[Case]:
    _check(scope)
    return within(Case.objects.all(), scope)


def case_get(*, scope: Scope, case_id: int) -> Case:
    """One case with its person and investigation. Raises NotFound (missing or not yours)."""
    case = (
        _cases(scope)
        .select_related("person", "investigation", "cluster")
        .filter(pk=case_id)
        .first()
    )
    if case is None:
        raise NotFound("tracing.not_found", "Case not found")
    return case


T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_after: int | None


def case_list(
    *,
    scope: Scope,
    status: str | None = None,
    cluster_id: int | None = None,
    after_id: int | None = None,
    limit: int = 50,
) -> Page[Case]:
    """Cases newest first, one keyset page."""
    limit = max(1, min(limit, MAX_LIMIT))
    qs = _cases(scope).select_related("person", "investigation")
    if status:
        qs = qs.filter(status=status)
    if cluster_id is not None:
        qs = qs.filter(cluster_id=cluster_id)
    if after_id is not None:
        qs = qs.filter(pk__lt=after_id)
    rows = list(qs.order_by("-pk")[: limit + 1])
    items = rows[:limit]
    return Page(items, items[-1].pk if len(rows) > limit else None)


# --- investigation clocks --------------------------------------------------------------------


@dataclass(frozen=True)
class Clock:
    step: Step
    due_at: dt.datetime
    done_at: dt.datetime | None
    state: str  # done | late (done after the deadline) | running | overdue

    @property
    def remaining(self) -> dt.timedelta | None:
        return None if self.done_at else self.due_at - clock.now()


def investigation_clocks(*, scope: Scope, investigation: Investigation) -> list[Clock]:
    """The three clocks of an investigation, in order, with their state now."""
    _check(scope)
    if not scope.covers(investigation.jurisdiction_path):
        raise NotFound("tracing.not_found", "Not found")
    now = clock.now()
    out = []
    for step in Step:
        due = getattr(investigation, f"{step.value}_due")
        done = getattr(investigation, f"{step.value}_at")
        if done is not None:
            state = "late" if done > due else "done"
        else:
            state = "overdue" if now > due else "running"
        out.append(Clock(step, due, done, state))
    return out


# --- trajectory ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stop:
    source: str  # self_report | checkin | cell
    start: dt.datetime
    end: dt.datetime | None
    place: str
    venue_id: int | None = None
    in_window: bool = True


@dataclass
class CaseTrajectory:
    stops: list[Stop] = field(default_factory=list)
    truncated: bool = False


def case_trajectory(*, scope: Scope, case: Case) -> CaseTrajectory:
    """The case's stops over its infectious window (and the incubation period before it):
    what they said (self-report) and what the lake holds (check-ins, cell stays), by time."""
    _check(scope)
    if not scope.covers(case.jurisdiction_path):
        raise NotFound("tracing.not_found", "Not found")
    book = _book()
    src_start, _src_end = rules.source_window(
        book, onset_date=case.onset_date, sampled_at=case.sampled_at
    )
    start, end = min(src_start, case.window_start), case.window_end
    stops = [
        Stop(
            "self_report",
            e.started_at,
            e.ended_at,
            e.place,
            e.venue_id,
            _inside(case, e.started_at),
        )
        for e in TrajectoryEntry.objects.filter(case=case).order_by("started_at", "pk")
    ]
    lake = lake_selectors.trajectory(
        scope=scope,
        person_id=case.person_id,
        start=int(start.timestamp()),
        end=int(end.timestamp()),
    )
    names = venue_names([s.venue_id for s in lake.scans])
    for s in lake.scans:
        at = dt.datetime.fromtimestamp(s.ts, tz=dt.UTC)
        stops.append(
            Stop(
                "checkin",
                at,
                None,
                names.get(s.venue_id, f"#{s.venue_id}"),
                s.venue_id,
                _inside(case, at),
            )
        )
    for c in lake.stays:
        at = dt.datetime.fromtimestamp(c.start_ts, tz=dt.UTC)
        stops.append(
            Stop(
                "cell",
                at,
                dt.datetime.fromtimestamp(c.end_ts, tz=dt.UTC),
                f"cell {c.cell_id}",
                None,
                _inside(case, at),
            )
        )
    stops.sort(key=lambda s: (s.start, s.source))
    return CaseTrajectory(stops, lake.truncated)


def _inside(case: Case, at: dt.datetime) -> bool:
    return case.window_start <= at <= case.window_end


def _book() -> TracingRules:
    from fangkong.policy.selectors import rulebook_in_force

    return rulebook_in_force().book.tracing


def venue_names(ids: list[int | None] | list[int]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {
        pk: f"{name} ({kind})"
        for pk, name, kind in Place.objects.filter(pk__in=wanted).values_list("pk", "name", "kind")
    }


# --- contacts --------------------------------------------------------------------------------


def _contacts(scope: Scope) -> QuerySet[Contact]:
    _check(scope)
    return within(Contact.objects.all(), scope)


def contact_get(*, scope: Scope, contact_id: int) -> Contact:
    contact = _contacts(scope).select_related("person", "case").filter(pk=contact_id).first()
    if contact is None:
        raise NotFound("tracing.not_found", "Contact not found")
    return contact


def contact_list(
    *,
    scope: Scope,
    case: Case | None = None,
    status: str | None = None,
    degree: int | None = None,
    after_id: int | None = None,
    limit: int = 100,
) -> Page[Contact]:
    """Contact edges, strongest exposure first within a case, else newest first."""
    limit = max(1, min(limit, MAX_LIMIT))
    qs = _contacts(scope).select_related("person")
    if case is not None:
        qs = qs.filter(case=case)
    if status:
        qs = qs.filter(status=status)
    if degree:
        qs = qs.filter(degree=degree)
    if after_id is not None:
        qs = qs.filter(pk__lt=after_id)
    rows = list(qs.order_by("-pk")[: limit + 1])
    items = rows[:limit]
    if case is not None:
        items.sort(key=lambda c: (-c.score, c.first_exposure_at, c.pk))
    return Page(items, rows[limit - 1].pk if len(rows) > limit else None)


def copresence_runs(*, scope: Scope, case: Case, limit: int = 10) -> list[CopresenceRun]:
    _check(scope)
    return list(
        within(CopresenceRun.objects.filter(case=case), scope).order_by("-ran_at", "-pk")[:limit]
    )


def candidates_strongest(*, scope: Scope, case: Case, limit: int = 20) -> list[Contact]:
    """The case's candidate edges, strongest exposure first (index: case, status, -score)."""
    qs = _contacts(scope).select_related("person").filter(case=case, status="candidate")
    return list(qs.order_by("-score", "first_exposure_at", "pk")[: max(1, min(limit, MAX_LIMIT))])


def copresence_run_get(*, scope: Scope, case: Case, run_id: int) -> CopresenceRun:
    """One run of the case's engine. Raises NotFound (missing, another case's, out of scope)."""
    _check(scope)
    run = within(CopresenceRun.objects.filter(case=case, pk=run_id), scope).first()
    if run is None:
        raise NotFound("tracing.not_found", "Not found")
    return run


# --- clusters --------------------------------------------------------------------------------


def _clusters(scope: Scope) -> QuerySet[Cluster]:
    _check(scope)
    return within(Cluster.objects.all(), scope)


def cluster_get(*, scope: Scope, cluster_id: int) -> Cluster:
    cluster = _clusters(scope).select_related("jurisdiction").filter(pk=cluster_id).first()
    if cluster is None:
        raise NotFound("tracing.not_found", "Cluster not found")
    return cluster


def cluster_list(*, scope: Scope, status: str | None = None, limit: int = 100) -> list[Cluster]:
    qs = _clusters(scope)
    if status:
        qs = qs.filter(status=status)
    return list(qs.order_by("-opened_at", "-pk")[: max(1, min(limit, MAX_LIMIT))])


def cluster_cases(*, scope: Scope, cluster: Cluster) -> list[Case]:
    """The cluster's cases the scope may see (a city cluster spans districts)."""
    return list(
        _cases(scope).filter(cluster=cluster).select_related("person").order_by("created_at", "pk")
    )
