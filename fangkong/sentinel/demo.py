"""The sentinel module's part of the demo city (called by `fangkong demo`, after the city,
the rulebook and the demo control orders exist). Idempotent: a second run adds nothing.

Every pharmacy, clinic, village clinic and fever clinic of the registry becomes a reporting
unit. Four weeks of history are generated set-based (counts drawn per unit and day, rows
bulk-inserted with their daily reports; a few units leave yesterday unreported, some file zero
reports); a cluster is seeded in one town over the last three days (fever and antipyretic
buyers from one grid). The series are aggregated and the detection run of the rulebook raises
the alerts, assigned to the town for verification. Today's counter traffic goes through the
registration service, so buyers without a recent negative test get their test requirement.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction

from fangkong.core import clock
from fangkong.core.actor import Actor
from fangkong.core.idnumbers import check_char
from fangkong.people import protect
from fangkong.people.models import Person
from fangkong.sentinel import rules, services
from fangkong.sentinel.models import DailyReport, Registration, Unit
from fangkong.sentinel.series import series_refresh
from fangkong.sentinel.watch import detection_run

DAYS = 28
MARK = "demo-"
# Mean records per day by unit kind (a pharmacy in the festival season, a fever clinic...).
RATES = {"pharmacy": 3.0, "clinic": 2.0, "village_clinic": 0.6, "fever_clinic": 4.0}
CLASSES = ("antipyretic", "cough", "antiviral", "antibiotic")
CLASS_WEIGHTS = (0.4, 0.3, 0.1, 0.2)
CLUSTER_DAYS = 3
POOL = 2000  # buyers drawn from this many registry persons


@dataclass(frozen=True, slots=True)
class _Buyer:
    person_id: int | None
    doc_number: str
    name: str
    phone: str
    grid_id: int | None
    path: str


def _visitor_id(rng: random.Random) -> str:
    """A fictitious, checksum-valid ID number of a visitor the registry does not know."""
    body = f"440981{rng.randint(1950, 2005)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    body += f"{rng.randint(0, 999):03d}"
    return body + check_char(body)


def _poisson(rng: random.Random, lam: float) -> int:
    # Knuth's method: the rates here are small.
    limit, k, p = pow(2.718281828459045, -lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _buyers(rng: random.Random) -> list[_Buyer]:
    people = list(
        Person.objects.filter(merged_into__isnull=True, grid__isnull=False).order_by("pk")[:POOL]
    )
    return [
        _Buyer(p.pk, p.doc_number, p.name, p.phone or "13800000000", p.grid_id, p.jurisdiction_path)
        for p in people
    ] or [_Buyer(None, _visitor_id(rng), "访客", "13800000000", None, "")]


def _row(
    unit: Unit, buyer: _Buyer, at: dt.datetime, stream: str, *, fever: bool, client_id: str
) -> Registration:
    purchase = unit.record_kind == rules.RecordKind.PURCHASE
    return Registration(
        unit=unit,
        jurisdiction_path=unit.jurisdiction_path,
        kind=unit.record_kind,
        stream=stream,
        source=Registration.Source.API,
        client_id=client_id,
        occurred_at=at,
        day=clock.to_local(at).date(),
        doc_type="resident_id",
        doc_number=buyer.doc_number,
        doc_bidx=protect.doc_index(buyer.doc_number),
        name=buyer.name,
        phone=buyer.phone,
        phone_bidx=protect.phone_index(buyer.phone),
        person_id=buyer.person_id,
        home_grid_id=buyer.grid_id,
        home_path=buyer.path,
        drug_class=stream if purchase else "",
        quantity=1,
        fever=fever,
        temperature=None,
        test_status=Registration.Test.RECENT_NEGATIVE,
        reported_by="demo",
        created_at=at,
    )


def _history(
    rng: random.Random,
    units: Sequence[Unit],
    buyers: list[_Buyer],
    today: dt.date,
    cluster_town: str,
) -> tuple[int, int]:
    """Registrations and daily reports of the last DAYS days (not today), bulk-inserted."""
    cluster_buyers = [b for b in buyers if b.grid_id is not None]
    cluster_grid = cluster_buyers[0].grid_id if cluster_buyers else None
    cluster_buyers = [b for b in cluster_buyers if b.grid_id == cluster_grid] or buyers
    rows: list[Registration] = []
    reports: list[DailyReport] = []
    for d in range(DAYS, 0, -1):
        day = today - dt.timedelta(days=d)
        midnight = clock.local_midnight(day)
        for unit in units:
            if d == 1 and rng.random() < 0.05:
                continue  # yesterday's report is missing
            n = _poisson(rng, RATES[unit.kind])
            in_cluster = unit.town_code == cluster_town and d <= CLUSTER_DAYS
            extra = rng.randint(6, 10) if in_cluster else 0
            for i in range(n + extra):
                seeded = i >= n
                buyer = rng.choice(cluster_buyers if seeded else buyers)
                at = midnight + dt.timedelta(minutes=rng.randint(8 * 60, 21 * 60))
                fever = seeded or rng.random() < 0.2
                if unit.record_kind == rules.RecordKind.PURCHASE:
                    stream = "antipyretic" if seeded else rng.choices(CLASSES, CLASS_WEIGHTS)[0]
                else:
                    stream = "fever_visit" if fever else "visit"
                rows.append(
                    _row(
                        unit,
                        buyer,
                        at,
                        stream,
                        fever=fever,
                        client_id=f"{MARK}{unit.code}-{day}-{i}",
                    )
                )
            reports.append(
                DailyReport(
                    unit=unit,
                    jurisdiction_path=unit.jurisdiction_path,
                    day=day,
                    records=n + extra,
                    zero=n + extra == 0,
                    first_at=midnight + dt.timedelta(hours=21),
                    last_at=midnight + dt.timedelta(hours=21),
                    filed_by="demo",
                )
            )
    Registration.objects.bulk_create(rows, batch_size=2000)
    DailyReport.objects.bulk_create(reports, batch_size=2000)
    return len(rows), len(reports)


def _today(actor: Actor, rng: random.Random, units: Sequence[Unit], buyers: list[_Buyer]) -> int:
    """This morning at the counters, through the service: the 48 h rule, flags, follow-up."""
    pharmacies = [u for u in units if u.kind == "pharmacy"][:20]
    assigned = 0
    now = clock.now()
    for unit in pharmacies:
        items = []
        for i in range(rng.randint(2, 5)):
            known = rng.random() < 0.6
            buyer = rng.choice(buyers) if known else None
            items.append(
                {
                    "client_id": f"{MARK}{unit.code}-today-{i}",
                    "occurred_at": (now - dt.timedelta(minutes=rng.randint(5, 120))).isoformat(),
                    "doc_number": buyer.doc_number if buyer else _visitor_id(rng),
                    "name": buyer.name if buyer else "访客",
                    "phone": buyer.phone if buyer else "13900000000",
                    "drug_class": rng.choice(["antipyretic", "cough", "antiviral", "antibiotic"]),
                    "fever": rng.random() < 0.4,
                    "for_other": i == 0,
                    "for_name": "家人" if i == 0 else "",
                }
            )
        result = services.registrations_submit(actor=actor, unit=unit, items=items, source="api")
        assigned += sum(1 for it in result.items if it.test_status == rules.TestStatus.ASSIGNED)
    return assigned


def demo_run(*, actor: Actor, seed: int) -> list[str]:
    """Build this module's demo data; return one summary line per thing made."""
    if Registration.objects.filter(client_id__startswith=MARK).exists():
        return []
    added = services.units_from_places(actor=actor)
    units = list(Unit.objects.filter(active=True).order_by("code"))
    if not units:
        return []
    rng = random.Random(f"sentinel-demo:{seed}")  # noqa: S311 - deterministic demo data
    today = clock.local_date()
    towns = sorted({u.town_code for u in units if u.kind == "pharmacy" and u.town_code})
    cluster_town = rng.choice(towns) if towns else ""
    with transaction.atomic():
        buyers = _buyers(rng)
        records, reports = _history(rng, units, buyers, today, cluster_town)
        series_refresh(days=[today - dt.timedelta(days=d) for d in range(DAYS, -1, -1)])
    alerts = 0
    for d in range(CLUSTER_DAYS, 0, -1):
        alerts += len(detection_run(day=today - dt.timedelta(days=d)).alerts)
    assigned = _today(actor, rng, units, buyers)
    series_refresh(days=[today])
    return [
        f"Sentinel: {len(units)} reporting units ({added} new from the place registry), "
        f"{records:,} records and {reports:,} daily reports over {DAYS} days",
        f"Sentinel: a cluster seeded in town {cluster_town}; detection raised {alerts} alerts",
        f"Sentinel: {assigned} buyers at today's counters got a test requirement",
    ]
