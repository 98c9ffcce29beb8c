"""What the co-presence engine finds for a case, merged per person, and stored as candidate
edges. The rulebook's tracing section gives the engine its arguments: the window (and the longer
dwell of some venue kinds), the cell-grid rule, and whether a finding is a contact at once.
Called by services.copresence only (inside its transaction).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from fangkong.lake import engine
from fangkong.people.models import Person
from fangkong.places.models import Place
from fangkong.policy.sections.tracing import TracingRules
from fangkong.tracing import rules
from fangkong.tracing.models import Case, Contact
from fangkong.tracing.rules import ContactStatus, ExposureKind

# (stage, persons found so far): what a long run reports while it works
Progress = Callable[[str, int], None]


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
    progress: Progress | None = None,
) -> dict[int, Finding]:
    """Run both engines and merge per person: the earliest exposure, all encounters, the
    venue (a scan pair) over a shared cell when both found the person."""
    dwell = venue_windows(book)
    if progress is not None:
        progress("venues", 0)
    venue_rows = engine.venue_copresence(
        source,
        windows,
        window_seconds=book.copresence_window_seconds,
        venue_windows=dwell,
        backend=backend,
        exclude=exclude,
    )
    if progress is not None:
        progress("cells", len(venue_rows))
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


def store(
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
