"""Reads over transmission chains and clusters: the graph, the epidemic curve, source tracing
and the Go.Data KPIs. Selectors like the others (scope first, NotFound for not yours)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Max, Q

from fangkong.core import clock
from fangkong.core.masking import mask_name
from fangkong.core.scope import Scope, within
from fangkong.lake import selectors as lake_selectors
from fangkong.policy.sections.tracing import TracingRules
from fangkong.policy.selectors import rulebook_in_force
from fangkong.tracing import rules
from fangkong.tracing.models import Case, Cluster, Contact
from fangkong.tracing.rules import ContactStatus
from fangkong.tracing.selectors import _check, cluster_cases, venue_names

GRAPH_MAX_CONTACTS = 1500


# --- graph -----------------------------------------------------------------------------------


def cluster_graph(
    *, scope: Scope, cluster: Cluster, include_candidates: bool = False
) -> dict[str, Any]:
    """Cases, contacts and venues as nodes; exposures and infections as edges. A person who
    is both a contact and a case is one node (the chain shows through it). Names masked."""
    cases = cluster_cases(scope=scope, cluster=cluster)
    case_ids = [c.pk for c in cases]
    statuses = [ContactStatus.CONFIRMED] + ([ContactStatus.CANDIDATE] if include_candidates else [])
    edges_qs = (
        within(Contact.objects.filter(case_id__in=case_ids, status__in=statuses), scope)
        .select_related("person")
        .order_by("-score", "pk")
    )
    contacts = list(edges_qs[:GRAPH_MAX_CONTACTS])
    nodes: dict[str, dict[str, Any]] = {}
    links: list[dict[str, Any]] = []
    for c in cases:
        nodes[f"p{c.person_id}"] = {
            "id": f"p{c.person_id}",
            "type": "case",
            "status": f"case_{c.kind}" if c.status == Case.Status.OPEN else "case_closed",
            "label": f"{mask_name(c.person.name)} #{c.pk}",
            "case": c.pk,
            "day": clock.to_local(c.sampled_at).date().isoformat(),
        }
        if c.infected_by_id is not None and c.infected_by_id in case_ids:
            src = next(x for x in cases if x.pk == c.infected_by_id)
            links.append(
                {"source": f"p{src.person_id}", "target": f"p{c.person_id}", "kind": "infection"}
            )
    venues = venue_names([e.venue_id for e in contacts])
    case_person = {c.pk: c.person_id for c in cases}
    via_person = {e.pk: e.person_id for e in contacts}
    for e in contacts:
        pid = f"p{e.person_id}"
        if pid not in nodes:
            nodes[pid] = {
                "id": pid,
                "type": "contact",
                "status": "became_case" if e.became_case_id else f"{e.status}_{e.category}",
                "label": mask_name(e.person.name),
                "contact": e.pk,
            }
        origin = via_person.get(e.via_id) if e.via_id else None
        source = f"p{origin if origin is not None else case_person[e.case_id]}"
        if e.venue_id is not None:
            vid = f"v{e.venue_id}"
            nodes.setdefault(
                vid,
                {
                    "id": vid,
                    "type": "venue",
                    "status": "venue",
                    "label": venues.get(e.venue_id, f"#{e.venue_id}"),
                },
            )
            links.append({"source": source, "target": vid, "kind": e.exposure})
            links.append({"source": vid, "target": pid, "kind": e.exposure})
        else:
            links.append({"source": source, "target": pid, "kind": e.exposure})
    return {
        "nodes": list(nodes.values()),
        "links": links,
        "truncated": len(contacts) >= GRAPH_MAX_CONTACTS,
    }


# --- epidemic curve --------------------------------------------------------------------------


@dataclass(frozen=True)
class CurveDay:
    day: dt.date
    confirmed: int
    asymptomatic: int

    @property
    def total(self) -> int:
        return self.confirmed + self.asymptomatic


def cluster_curve(*, scope: Scope, cluster: Cluster) -> list[CurveDay]:
    """Cases per day of onset (sampling when no onset), every day from the first to the last."""
    cases = cluster_cases(scope=scope, cluster=cluster)
    days = {c.pk: c.onset_date or clock.to_local(c.sampled_at).date() for c in cases}
    total = dict(rules.epi_curve(days.values()))
    confirmed = dict(
        rules.epi_curve(days[c.pk] for c in cases if c.kind == rules.CaseKind.CONFIRMED)
    )
    return [CurveDay(d, confirmed.get(d, 0), n - confirmed.get(d, 0)) for d, n in total.items()]


# --- source tracing --------------------------------------------------------------------------


@dataclass
class Sources:
    shared: list[rules.SharedVenue] = field(default_factory=list)
    venue_labels: dict[int, str] = field(default_factory=dict)
    earliest_case: Case | None = None
    imported: list[Case] = field(default_factory=list)
    cases: int = 0


def cluster_sources(*, scope: Scope, cluster: Cluster, min_cases: int = 2) -> Sources:
    """Venues the cluster's cases shared in their incubation periods before onset, ranked
    (how many cases, then the earliest visit); the earliest case; imported cases."""
    cases = cluster_cases(scope=scope, cluster=cluster)
    book = rulebook_in_force().book.tracing
    visits: list[rules.Visit] = []
    for c in cases:
        start, end = rules.source_window(book, onset_date=c.onset_date, sampled_at=c.sampled_at)
        trace = lake_selectors.trajectory(
            scope=scope,
            person_id=c.person_id,
            start=int(start.timestamp()),
            end=int(end.timestamp()),
        )
        visits.extend(
            rules.Visit(c.pk, s.venue_id, dt.datetime.fromtimestamp(s.ts, tz=dt.UTC))
            for s in trace.scans
        )
    shared = rules.shared_venues(visits, min_cases=min_cases)[:20]
    facts = [
        rules.CaseFacts(c.pk, c.onset_date or clock.to_local(c.sampled_at).date()) for c in cases
    ]
    first = rules.earliest_case(facts)
    return Sources(
        shared=shared,
        venue_labels=venue_names([s.venue_id for s in shared]),
        earliest_case=next((c for c in cases if c.pk == first), None),
        imported=[c for c in cases if c.imported],
        cases=len(cases),
    )


# --- KPIs ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kpis:
    since: dt.datetime
    cases: int
    contacts: int  # confirmed first-degree contact edges of those cases
    contacts_per_case: float
    known_contact_cases: int  # cases that were confirmed contacts before they tested positive
    known_contact_share: float
    under_follow_up: int  # confirmed contacts (persons) within their follow-up period
    not_followed_up: int  # of those, without a follow-up in `gap_days`
    gap_days: int
    chains_active: int
    chains_closed: int


def kpis(*, scope: Scope, days: int = 28) -> Kpis:
    """The Go.Data KPIs over the cases registered in the last `days` days in the scope:
    contacts per case, cases that were known contacts, contacts not followed up, chains."""
    _check(scope)
    book = rulebook_in_force().book.tracing
    now = clock.now()
    since = now - dt.timedelta(days=days)
    cases = within(Case.objects.filter(created_at__gte=since), scope)
    n_cases = cases.count()
    known = cases.filter(from_contact__isnull=False).count()
    contacts = within(
        Contact.objects.filter(case__in=cases, degree=1, status=ContactStatus.CONFIRMED), scope
    ).count()
    follow_from = now - dt.timedelta(days=book.followup_days)
    gap = now - dt.timedelta(days=book.followup_gap_days)
    under = within(
        Contact.objects.filter(
            status=ContactStatus.CONFIRMED,
            became_case__isnull=True,
            last_exposure_at__gte=follow_from,
        ),
        scope,
    )
    n_under = under.values("person_id").distinct().count()
    late = under.filter(
        Q(followed_up_at__lt=gap) | Q(followed_up_at__isnull=True, decided_at__lt=gap)
    )
    # A person followed up through any of their edges is followed up.
    fresh = under.filter(followed_up_at__gte=gap).values("person_id")
    n_late = late.exclude(person_id__in=fresh).values("person_id").distinct().count()
    active, closed = _chains(scope, book, now=now, since=since)
    return Kpis(
        since=since,
        cases=n_cases,
        contacts=contacts,
        contacts_per_case=round(contacts / n_cases, 2) if n_cases else 0.0,
        known_contact_cases=known,
        known_contact_share=round(known / n_cases, 3) if n_cases else 0.0,
        under_follow_up=n_under,
        not_followed_up=n_late,
        gap_days=book.followup_gap_days,
        chains_active=active,
        chains_closed=closed,
    )


def _chains(
    scope: Scope, book: TracingRules, *, now: dt.datetime, since: dt.datetime
) -> tuple[int, int]:
    """Chains (by their first case) with a case in the period: active while a case joined or
    a contact was exposed within the rulebook's closing period, closed after."""
    roots = dict(
        within(Case.objects.filter(chain_root__isnull=False), scope)
        .values("chain_root_id")
        .annotate(last=Max("created_at"), n=Count("id"))
        .filter(last__gte=since)
        .values_list("chain_root_id", "last")
    )
    exposures = dict(
        within(
            Contact.objects.filter(
                case__chain_root_id__in=list(roots), status=ContactStatus.CONFIRMED
            ),
            scope,
        )
        .values("case__chain_root_id")
        .annotate(last=Max("last_exposure_at"))
        .values_list("case__chain_root_id", "last")
    )
    active = sum(
        1
        for root, last in roots.items()
        if rules.chain_active(
            book, last_case_at=last, last_exposure_at=exposures.get(root), now=now
        )
    )
    return active, len(roots) - active
