"""Minimal valid place rows for tests."""

from __future__ import annotations

import itertools
from typing import Any

from fangkong.jurisdictions.models import Jurisdiction
from fangkong.places.models import CATEGORY_OF_KIND, Place, PlaceKind, Room

_serial = itertools.count(1)


def place(jurisdiction: Jurisdiction, **extra: Any) -> Place:
    kind = extra.pop("kind", PlaceKind.MALL)
    fields: dict[str, Any] = {
        "code": f"T{next(_serial):08d}",
        "name": f"Place {kind}",
        "category": CATEGORY_OF_KIND[kind],
        **extra,
    }
    return Place.objects.create(
        kind=kind, jurisdiction=jurisdiction, jurisdiction_path=jurisdiction.path, **fields
    )


def facility(jurisdiction: Jurisdiction, **extra: Any) -> Place:
    return place(jurisdiction, kind=PlaceKind.QUARANTINE_FACILITY, **extra)


def room(facility: Place, number: str, **extra: Any) -> Room:
    return Room.objects.create(
        facility=facility, jurisdiction_path=facility.jurisdiction_path, number=number, **extra
    )
