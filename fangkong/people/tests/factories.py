"""Minimal valid persons for tests: fictitious but checksum-valid ID numbers."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from fangkong.core.actor import Actor
from fangkong.core.idnumbers import check_char
from fangkong.jurisdictions.models import Jurisdiction
from fangkong.people import services
from fangkong.people.models import Person

_seq = itertools.count(1)


def resident_id(
    *, area: str = "440902", birth: dt.date = dt.date(1990, 1, 1), seq: int | None = None
) -> str:
    """A checksum-valid 18-digit number; an odd `seq` makes a man, an even one a woman."""
    n = next(_seq) if seq is None else seq
    body = f"{area}{birth:%Y%m%d}{n % 1000:03d}"
    return body + check_char(body)


def person(actor: Actor, grid: Jurisdiction, **kwargs: Any) -> Person:
    """Register a person through the service (the only writer), returning the row."""
    values: dict[str, Any] = {
        "doc_type": "resident_id",
        "doc_number": resident_id(),
        "name": "测试人",
    }
    values.update(kwargs)
    created, _ = services.person_register(actor=actor, grid=grid, **values)
    return created
