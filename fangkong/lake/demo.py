"""The lake module's part of the demo city (called by `fangkong demo`, after the city,
the rulebook and the demo control orders exist). Idempotent: a second run adds nothing.

14 city days of check-ins ending now (2 or 3 scans per person per day, mostly at venues of the
person's own district, in jurisdiction order) and cell-grid dwell records, written as compacted
day partitions. Each generated day is a ledger row (client "synthetic-city"), so a second run
finds it and writes nothing.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from django.db import transaction

from fangkong.audit.services import record
from fangkong.core import clock
from fangkong.core.actor import Actor
from fangkong.lake import generate
from fangkong.lake.engine import lake_root
from fangkong.lake.layout import CHECKINS, DWELL, TableSpec, day_of_date
from fangkong.lake.models import IngestBatch
from fangkong.people.models import Person
from fangkong.places.models import Place, PlaceKind

DAYS = 14
CLIENT = "synthetic-city"
# Places that display a place code (场所码) to scan at the door.
VENUE_KINDS = [
    PlaceKind.MALL,
    PlaceKind.MARKET,
    PlaceKind.RESTAURANT,
    PlaceKind.PARK,
    PlaceKind.SCENIC_SPOT,
    PlaceKind.CINEMA,
    PlaceKind.KTV,
    PlaceKind.INTERNET_CAFE,
    PlaceKind.HOSPITAL,
    PlaceKind.RELIGIOUS_SITE,
    PlaceKind.PHARMACY,
    PlaceKind.CLINIC,
    PlaceKind.VILLAGE_CLINIC,
    PlaceKind.FEVER_CLINIC,
]


def demo_run(*, actor: Actor, seed: int) -> list[str]:
    """Build this module's demo data; return one summary line per thing made."""
    persons = list(
        Person.objects.filter(merged_into__isnull=True)
        .order_by("jurisdiction_path", "pk")
        .values_list("pk", "jurisdiction_path")
    )
    venues = list(
        Place.objects.filter(kind__in=VENUE_KINDS, active=True)
        .order_by("jurisdiction_path", "pk")
        .values_list("pk", "jurisdiction_path")
    )
    if not persons or not venues:
        return []
    person_ids = np.array([p for p, _ in persons], dtype=np.int64)
    venue_ids = np.array([v for v, _ in venues], dtype=np.int64)
    # anchor: the first venue at or after the person's place in jurisdiction order
    anchors = np.searchsorted(np.array([p for _, p in venues]), np.array([p for _, p in persons]))
    now = int(clock.now().timestamp())
    first = day_of_date(clock.local_date()) - DAYS + 1
    lake = lake_root()
    done = set(IngestBatch.objects.filter(client_id=CLIENT).values_list("kind", "batch_id"))
    counts = {CHECKINS.name: 0, DWELL.name: 0}
    checkins = generate.checkin_days(
        person_ids=person_ids,
        venue_ids=venue_ids,
        first_day=first,
        days=DAYS,
        seed=seed,
        anchors=anchors,
        until=now,
    )
    cells = np.arange(1, max(2, len({p for _, p in persons}) // 2 + 1), dtype=np.int64)
    dwell = generate.dwell_days(
        person_ids=person_ids, cell_ids=cells, first_day=first, days=DAYS, seed=seed, until=now
    )
    for spec, days in ((CHECKINS, checkins), (DWELL, dwell)):
        for day, table in days:
            if (spec.name, f"{spec.name}-{day}") in done or table.num_rows == 0:
                continue
            counts[spec.name] += _write_day(actor, spec, day, table)
    if not any(counts.values()):
        return []
    with transaction.atomic():
        record(
            actor=actor,
            action="lake.demo_generate",
            target_type="lake.partition",
            detail={**counts, "days": DAYS, "seed": seed},
        )
    return [
        f"Event lake: {counts[CHECKINS.name]:,} check-ins and {counts[DWELL.name]:,} dwell "
        f"records over {DAYS} days in {lake.root}"
    ]


def _write_day(actor: Actor, spec: TableSpec, day: int, table: pa.Table) -> int:
    lake = lake_root()
    lake.write_day(spec, day, table)
    times = table.column(spec.time).to_numpy()
    IngestBatch.objects.create(
        kind=spec.name,
        source=IngestBatch.Source.GENERATED,
        client_id=CLIENT,
        batch_id=f"{spec.name}-{day}",
        digest="",
        rows=table.num_rows,
        first_ts=int(times.min()),
        last_ts=int(times.max()),
        files=[str(lake.day_dir(spec, day).relative_to(lake.root))],
        actor_label=actor.label[:150],
        received_at=clock.now(),
    )
    return int(table.num_rows)
