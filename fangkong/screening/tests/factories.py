"""Test data for screening: a rulebook with dated risk areas, ID numbers, persons to send."""

from __future__ import annotations

import datetime as dt
import itertools

from fangkong.control.tests.factories import NOW, TODAY
from fangkong.core.actor import Actor
from fangkong.core.idnumbers import check_char
from fangkong.policy.editions import edition_text
from fangkong.policy.models import RulebookVersion
from fangkong.policy.services import rulebook_publish
from fangkong.screening.services import AssistPerson

__all__ = ["NOW", "TODAY", "assist_person", "resident_id", "rulebook"]

_seq = itertools.count(1)

RISK_AREAS = """risk_areas:
  - {code: "110105", name: 北京市朝阳区, level: high, declared_on: 2022-01-01}
  - {code: "310115", name: 上海市浦东新区, level: medium, declared_on: 2022-01-01}
  - {code: "440305", name: 深圳市南山区, level: low, declared_on: 2022-01-01}
"""


def rulebook(system: Actor, edition: str = "ninth-edition-2022") -> RulebookVersion:
    """A shipped edition with three declared risk areas, in force since long before NOW."""
    text = edition_text(edition).replace("risk_areas: []\n", RISK_AREAS)
    return rulebook_publish(
        actor=system,
        text=text,
        note=f"test: {edition} with risk areas",
        effective_from=dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
    )


def resident_id(
    *, area: str = "110105", birth: dt.date = dt.date(1990, 1, 1), seq: int | None = None
) -> str:
    """A checksum-valid 18-digit resident ID number (fictitious)."""
    n = next(_seq) if seq is None else seq
    body = f"{area}{birth:%Y%m%d}{n % 1000:03d}"
    return body + check_char(body)


def assist_person(**kwargs: str) -> AssistPerson:
    values = {"name": "张三", "doc_type": "resident_id", "doc_number": resident_id()}
    values.update(kwargs)
    return AssistPerson(
        name=values["name"],
        doc_type=values["doc_type"],
        doc_number=values["doc_number"],
        phone=values.get("phone", ""),
        address=values.get("address", ""),
        category=values.get("category", ""),
        note=values.get("note", ""),
    )
