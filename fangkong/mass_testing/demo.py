"""The mass_testing module's part of the demo city (called by `fangkong demo`, after the city,
the rulebook and the demo control orders exist). Idempotent: a second run adds nothing.

A city-wide round that started this morning: a sampling site per town, most residents sampled
over the day in 10-in-1 tubes (sent in batches as a scanner app would), lab results for the
tubes, three positive pools (one resolved with a positive person who becomes a case, one
resolved all negative, one still open with its retest clock running), a few excusals, the
coverage rebuilt and the not-yet-sampled lists handed to the grids.
"""

from __future__ import annotations

import datetime as dt
import random

from fangkong.core import clock
from fangkong.core.actor import Actor
from fangkong.jurisdictions.models import Jurisdiction, Level
from fangkong.mass_testing import services
from fangkong.mass_testing.models import PositivePool, Retest, Round, Tube
from fangkong.people.models import Person

NAME = "演示：全员核酸检测第一轮"
BATCH = 1000


def demo_run(*, actor: Actor, seed: int) -> list[str]:
    """Build this module's demo data; return one summary line per thing made."""
    if Round.objects.filter(name=NAME).exists():
        return []
    cities = list(Jurisdiction.objects.filter(level=Level.CITY).order_by("code")[:1])
    districts = list(Jurisdiction.objects.filter(level=Level.DISTRICT).order_by("code"))
    if not cities or not districts:
        return []
    rng = random.Random(seed)  # noqa: S311 - a reproducible demo, not a secret
    now = clock.now()
    start = now - dt.timedelta(hours=10)
    rnd = services.round_create(
        actor=actor, name=NAME, areas=[(d, "general") for d in districts], starts_at=start
    )
    towns = list(Jurisdiction.objects.filter(level=Level.TOWN).order_by("path"))
    sites: dict[str, int] = {}
    for town in towns:
        site = services.site_create(
            actor=actor,
            rnd=rnd,
            node=town,
            name=f"{town.name}采样点",
            opens_at=start,
            closes_at=start + dt.timedelta(hours=14),
            samplers=rng.randint(4, 12),
        )
        sites[town.path] = site.pk
    people = list(
        Person.objects.filter(merged_into__isnull=True, grid__isnull=False)
        .order_by("jurisdiction_path", "pk")
        .values_list("pk", "jurisdiction_path")
    )
    sampled = [p for p in people if rng.random() < 0.92]
    span = max(1.0, (now - start).total_seconds() - 1800)
    scans: list[services.ScanIn] = []
    tube_no, in_tube, town_of_tube = 0, 0, ""
    for pk, path in sampled:
        town_path = next((t for t in sites if path.startswith(t)), "")
        if in_tube == 10 or town_path != town_of_tube:
            tube_no, in_tube, town_of_tube = tube_no + 1, 0, town_path
        in_tube += 1
        scans.append(
            services.ScanIn(
                client_id=f"demo-{pk}",
                barcode=f"DEMO{tube_no:08d}",
                sampled_at=start + dt.timedelta(seconds=rng.random() * span),
                person_id=pk,
                site_id=sites.get(town_path),
                sampler="演示采样员",
            )
        )
    accepted = 0
    for i in range(0, len(scans), BATCH):
        answers = services.scans_ingest(
            actor=actor, rnd=rnd, scans=scans[i : i + BATCH], batch_id=f"demo-{i}"
        )
        accepted += sum(1 for a in answers if a.outcome == "accepted")
    tubes = list(
        Tube.objects.filter(round=rnd).order_by("barcode").values_list("barcode", "members")
    )
    pooled = [b for b, m in tubes if m > 1]
    positives = set(rng.sample(pooled, min(3, len(pooled))))
    # The last hour's tubes are still at the lab.
    back = [b for b, _ in tubes if rng.random() < 0.9 or b in positives]
    tested = now - dt.timedelta(minutes=20)
    report = services.results_submit(
        actor=actor,
        lab="市疾控中心实验室",
        batch_id=f"demo-{rnd.pk}",
        results=[
            services.ResultIn(b, "positive" if b in positives else "negative", tested, None)
            for b in back
        ],
    )
    pools = list(PositivePool.objects.filter(round=rnd).order_by("tube__barcode"))
    for pool in pools:
        services.pool_hold(pool_id=pool.pk)
    cases = 0
    for n, pool in enumerate(pools[:2]):
        retests = list(Retest.objects.filter(pool=pool).order_by("pk"))
        for k, rt in enumerate(retests):
            positive = n == 0 and k == 0
            services.retest_record(
                actor=actor,
                retest=rt,
                result="positive" if positive else "negative",
                sampled_at=now - dt.timedelta(minutes=10),
            )
            cases += positive
    excused = 0
    done = {s.person_id for s in scans}
    for pk, _path in [p for p in people if p[0] not in done][:: max(1, len(people) // 200)][:20]:
        person = Person.objects.get(pk=pk)
        services.excusal_record(
            actor=actor, rnd=rnd, person=person, reason=rng.choice(["bedridden", "away"])
        )
        excused += 1
    grids = services.coverage_refresh(rnd=rnd)
    lists = services.unsampled_to_inbox(actor=actor, rnd=rnd)
    return [
        f"Mass testing: round {rnd.pk} over {len(districts)} districts, {len(sites)} sites, "
        f"{accepted:,} samples in {len(tubes):,} tubes",
        f"Mass testing: {report.matched:,} tube results, {len(pools)} positive pools "
        f"({min(2, len(pools))} resolved, {cases} case), {excused} excused, "
        f"coverage of {grids} grids, {lists} not-yet-sampled lists sent",
    ]
