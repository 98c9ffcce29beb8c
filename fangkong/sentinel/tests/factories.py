"""Minimal valid sentinel objects for tests, made through the services."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from fangkong.accounts.models import User
from fangkong.core import clock
from fangkong.core.actor import Actor
from fangkong.jurisdictions.models import Jurisdiction
from fangkong.mass_testing.models import Round, Sample, Tube
from fangkong.people.models import Person
from fangkong.people.tests.factories import resident_id
from fangkong.sentinel import services
from fangkong.sentinel.models import Unit

NOW = dt.datetime(2022, 1, 20, 10, 0, tzinfo=clock.LOCAL_TZ)
_seq = itertools.count(1)


def unit(actor: Actor, node: Jurisdiction, *, kind: str = "pharmacy", code: str = "") -> Unit:
    n = next(_seq)
    return services.unit_register(
        actor=actor,
        kind=kind,
        jurisdiction=node,
        code=code or f"U{n:05d}",
        name=f"测试药店{n}" if kind == "pharmacy" else f"测试诊所{n}",
    )


def operator(actor: Actor, u: Unit, username: str = "") -> User:
    user = User.objects.create(username=username or f"pharmacist{next(_seq)}", role="pharmacy")
    user.jurisdictions.set([u.jurisdiction])
    services.unit_operator_add(actor=actor, unit=u, user=user)
    return user


def purchase(**overrides: Any) -> dict[str, Any]:
    """A valid purchase record as a POS system sends it."""
    values: dict[str, Any] = {
        "doc_type": "resident_id",
        "doc_number": resident_id(),
        "name": "张三",
        "phone": "13800138000",
        "drug_class": "antipyretic",
        "product": "6901234567890",
        "quantity": 1,
        "fever": True,
        "temperature": "38.2",
    }
    values.update(overrides)
    return values


def negative_test(person: Person, at: dt.datetime, *, result: str = "negative") -> None:
    """A mass-testing sample of the person at `at`, with its tube's result."""
    n = next(_seq)
    rnd, _ = Round.objects.get_or_create(
        name="sentinel-test-round",
        defaults={
            "jurisdiction_path": "/",
            "starts_at": at - dt.timedelta(days=30),
            "deadline": at + dt.timedelta(days=30),
            "policy_version": 1,
            "created_by": "t",
            "created_at": at,
        },
    )
    tube = Tube.objects.create(
        barcode=f"T{n:08d}",
        round=rnd,
        jurisdiction_path=person.jurisdiction_path,
        kind="pooled",
        pool_size=10,
        opened_at=at,
        result=result,
        result_at=at + dt.timedelta(hours=5),
    )
    Sample.objects.create(
        round=rnd,
        tube=tube,
        person=person,
        jurisdiction_path=person.jurisdiction_path,
        grid=person.grid,
        sampled_at=at,
        client_id=f"S{n}",
        received_at=at,
    )
