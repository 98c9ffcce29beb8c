"""Running the lake's co-presence engine for a case (first degree) or for its confirmed close
contacts (second degree), and turning what it finds into candidate contacts.

The rulebook's tracing section gives the engine its arguments: the window (and the longer
dwell of some venue kinds), the cell-grid rule, and whether a finding is a contact at once.
A person already linked to the case, the case itself and persons who are open cases are left
out; the rest become candidate edges ranked by exposure, for an investigator to confirm in
bulk (contacts.contacts_confirm).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from fangkong.audit.services import record
from fangkong.core import clock
from fangkong.core.actor import Actor, require
from fangkong.core.errors import Invalid
from fangkong.core.perms import Perm
from fangkong.lake import engine
from fangkong.people.models import Person
from fangkong.places.models import Place
from fangkong.policy.sections.tracing import TracingRules
from fangkong.policy.selectors import rulebook_in_force
from fangkong.tracing import rules
from fangkong.tracing.models import Case, Contact, CopresenceRun
from fangkong.tracing.rules import ContactCategory, ContactStatus, ExposureKind
from fangkong.tracing.services._common import covered
from fangkong.tracing.services.contacts import confirm_edges


def epoch(value: dt.datetime) -> int:
    return int(value.timestamp())


def from_epoch(ts: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts, tz=dt.UTC)


@dataclass
class Finding:
    """What the engine says about one person, merged over venues and cells."""

    person_id: int
    origin: int  # the case's or close contact's person id the exposure was with
    kind: ExposureKind
    first: int
    last: int
    encounters: int
    overlap: int
    venue_id: int | None = None
    cell_id: int | None = None
    dwell_venue: bool = False

    def score(self) -> float:
        return rules.exposure_score(
            encounters=self.encounters, overlap_seconds=self.overlap, dwell_venue=self.dwell_venue
        )


def venue_windows(book: TracingRules) -> dict[int, int]:
    """venue id -> window seconds, for venues whose kind has a longer dwell in the rulebook."""
    if not book.venue_dwell_seconds:
        return {}
    return {
        pk: rules.window_for_venue(book, kind)
        for pk, kind in Place.objects.filter(kind__in=list(book.venue_dwell_seconds)).values_list(
            "pk", "kind"
        )
    }


def find(
    source: Any,
    windows: Sequence[engine.CaseWindow],
    *,
    book: TracingRules,
    exclude: dict[int, set[int]],
    backend: engine.Backend = "duckdb",
) -> dict[int, Finding]:
    """Run both engines and merge per person: the earliest exposure, all encounters, the
    venue (a scan pair) over a shared cell when both found the person."""
    dwell = venue_windows(book)
    venue_rows = engine.venue_copresence(
        source,
        windows,
        window_seconds=book.copresence_window_seconds,
        venue_windows=dwell,
        backend=backend,
        exclude=exclude,
    )
    cell_rows = engine.cell_copresence(
        source,
        windows,
        min_overlap_seconds=book.cell_min_overlap_seconds,
        cumulative_seconds=book.cell_cumulative_seconds,
        cumulative_lookback_seconds=book.cell_cumulative_lookback_days * 86_400,
        backend=backend,
        exclude=exclude,
    )
    found: dict[int, Finding] = {}
    for v in venue_rows:
        win = dwell.get(v.venue_id, book.copresence_window_seconds)
        f = Finding(
            person_id=v.person_id,
            origin=v.case_person_id,
            kind=ExposureKind.VENUE,
            first=v.contact_ts,
            last=v.contact_ts,
            encounters=v.encounters,
            overlap=max(0, win - v.min_gap_seconds),
            venue_id=v.venue_id,
            dwell_venue=v.venue_id in dwell,
        )
        _merge(found, f)
    for c in cell_rows:
        f = Finding(
            person_id=c.person_id,
            origin=c.case_person_id,
            kind=ExposureKind.COPRESENCE,
            first=c.overlap_start,
            last=c.overlap_start + c.shared_seconds,
            encounters=c.cells,
            overlap=c.shared_seconds,
            cell_id=c.cell_id,
        )
        _merge(found, f)
    return found


def _merge(found: dict[int, Finding], new: Finding) -> None:
    old = found.get(new.person_id)
    if old is None:
        found[new.person_id] = new
        return
    keep = old if old.kind == ExposureKind.VENUE or new.kind != ExposureKind.VENUE else new
    other = new if keep is old else old
    keep.first, keep.last = min(old.first, new.first), max(old.last, new.last)
    keep.encounters += other.encounters
    keep.overlap += other.overlap
    keep.cell_id = keep.cell_id or other.cell_id
    found[new.person_id] = keep


@transaction.atomic
def copresence_run(
    actor: Actor,
    *,
    case: Case,
    degree: int = 1,
    source: Any = None,
    backend: engine.Backend = "duckdb",
) -> CopresenceRun:
    """Find the case's co-presence candidates (degree 1: over its infectious window), or
    its close contacts' (degree 2: each from their first exposure until they were isolated),
    and store them as candidate edges. Running again adds only people not yet linked.
    `source` is the lake (the platform's by default) or plain files.
    Raises NotFound (case outside the scope), Invalid (degree, secondary tracing off).
    """
    require(actor, Perm.TRACING_WRITE)
    covered(actor, case.jurisdiction_path)
    if degree not in (1, 2):
        raise Invalid(
            "tracing.degree", "Degree 1 (the case) or 2 (its close contacts)", field="degree"
        )
    book = rulebook_in_force().book.tracing
    now = clock.now()
    origins: dict[int, Contact | None] = {}
    windows: list[engine.CaseWindow] = []
    if degree == 1:
        origins[case.person_id] = None
        windows.append(
            engine.CaseWindow(case.person_id, epoch(case.window_start), epoch(case.window_end))
        )
    else:
        if not book.secondary_contacts:
            raise Invalid("tracing.secondary_off", "The rulebook does not trace secondary contacts")
        close = Contact.objects.filter(
            case=case, degree=1, category=ContactCategory.CLOSE, status=ContactStatus.CONFIRMED
        ).order_by("pk")
        for edge in close:
            window = rules.secondary_window(
                first_exposure_at=edge.first_exposure_at, isolated_at=edge.isolated_at, now=now
            )
            if window is None:
                continue
            origins[edge.person_id] = edge
            windows.append(engine.CaseWindow(edge.person_id, epoch(window[0]), epoch(window[1])))
    linked = set(Contact.objects.filter(case=case).values_list("person_id", flat=True))
    linked.add(case.person_id)
    exclude = {w.case_person_id: linked for w in windows}
    started = time.perf_counter()
    found = (
        find(
            source if source is not None else engine.lake_root(),
            windows,
            book=book,
            exclude=exclude,
            backend=backend,
        )
        if windows
        else {}
    )
    seconds = time.perf_counter() - started
    created, direct = _store(case, found, origins=origins, degree=degree, book=book, now=now)
    if direct:
        confirm_edges(actor, direct, reason=f"co-presence with case {case.pk} (rulebook: direct)")
    run = CopresenceRun.objects.create(
        case=case,
        jurisdiction_path=case.jurisdiction_path,
        degree=degree,
        window_start=min((from_epoch(w.window_start) for w in windows), default=case.window_start),
        window_end=max((from_epoch(w.window_end) for w in windows), default=case.window_end),
        params={
            "window_seconds": book.copresence_window_seconds,
            "venue_dwell_seconds": dict(book.venue_dwell_seconds),
            "cell_min_overlap_seconds": book.cell_min_overlap_seconds,
            "cell_cumulative_seconds": book.cell_cumulative_seconds,
            "origins": len(windows),
            "backend": backend,
        },
        candidates=len(found),
        created=created,
        seconds=round(seconds, 4),
        actor_label=actor.label[:150],
        ran_at=now,
    )
    record(
        actor=actor,
        action="tracing.copresence_run",
        target=run,
        detail={
            "case": case.pk,
            "degree": degree,
            "found": len(found),
            "created": created,
            "direct": len(direct),
        },
    )
    return run


def _store(
    case: Case,
    found: dict[int, Finding],
    *,
    origins: dict[int, Contact | None],
    degree: int,
    book: TracingRules,
    now: dt.datetime,
) -> tuple[int, list[Contact]]:
    if not found:
        return 0, []
    ids = list(found)
    persons = dict(
        Person.objects.filter(pk__in=ids, merged_into__isnull=True).values_list(
            "pk", "jurisdiction_path"
        )
    )
    cases = set(
        Case.objects.filter(person_id__in=ids, status=Case.Status.OPEN).values_list(
            "person_id", flat=True
        )
    )
    edges = []
    for f in sorted(found.values(), key=lambda f: (-f.score(), f.first, f.person_id)):
        if f.person_id not in persons or f.person_id in cases:
            continue  # unknown to the registry (a visitor's scan), or a case already
        edges.append(
            Contact(
                case=case,
                via=origins.get(f.origin),
                person_id=f.person_id,
                jurisdiction_path=case.jurisdiction_path,
                person_path=persons[f.person_id],
                degree=degree,
                category=rules.category_of(f.kind, degree=degree, found_by_engine=True).value,
                status=ContactStatus.CANDIDATE,
                exposure=f.kind.value,
                source=Contact.Source.ENGINE,
                first_exposure_at=from_epoch(f.first),
                last_exposure_at=from_epoch(max(f.first, f.last)),
                venue_id=f.venue_id,
                cell_id="" if f.cell_id is None else str(f.cell_id),
                encounters=f.encounters,
                overlap_seconds=f.overlap,
                score=f.score(),
                created_at=now,
                updated_at=now,
            )
        )
    Contact.objects.bulk_create(edges, ignore_conflicts=True)
    direct_ids = [
        e.person_id
        for e in edges
        if rules.is_direct(
            book, kind=ExposureKind(e.exposure), encounters=e.encounters, manual=False
        )
    ]
    direct = list(
        Contact.objects.select_for_update()
        .filter(case=case, person_id__in=direct_ids, status=ContactStatus.CANDIDATE)
        .order_by("pk")
    )
    return len(edges), direct
