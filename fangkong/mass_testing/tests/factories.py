"""Minimal valid mass-testing data: a round over district A, persons, scans, results."""

from __future__ import annotations

import datetime as dt
import itertools

from conftest import Tree
from fangkong.control.tests import factories as cf
from fangkong.core.actor import Actor
from fangkong.mass_testing import services
from fangkong.mass_testing.models import Round
from fangkong.mass_testing.services import ResultIn, ScanAnswer, ScanIn
from fangkong.people.models import Person

NOW = cf.NOW
_ids = itertools.count(1)


def round_(actor: Actor, tree: Tree, area_type: str = "general", **kw: object) -> Round:
    return services.round_create(
        actor=actor,
        name="全员核酸第1轮",
        areas=[(tree.district_a, area_type)],
        starts_at=NOW - dt.timedelta(hours=2),
        **kw,  # type: ignore[arg-type]
    )


def person(system: Actor, grid: object) -> Person:
    return cf.person(system, grid)  # type: ignore[arg-type]


def scan(p: Person, barcode: str, *, client_id: str | None = None, **kw: object) -> ScanIn:
    return ScanIn(
        client_id=client_id or f"c{next(_ids)}",
        barcode=barcode,
        sampled_at=kw.pop("sampled_at", NOW - dt.timedelta(minutes=30)),  # type: ignore[arg-type]
        person_id=p.pk,
        **kw,  # type: ignore[arg-type]
    )


def ingest(actor: Actor, rnd: Round, scans: list[ScanIn]) -> list[ScanAnswer]:
    return services.scans_ingest(actor=actor, rnd=rnd, scans=scans, batch_id="b")


def result(barcode: str, value: str) -> ResultIn:
    return ResultIn(barcode=barcode, result=value, tested_at=NOW - dt.timedelta(minutes=5))
