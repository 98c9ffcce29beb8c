"""Helpers shared by the tracing services: validation, scope, nodes."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import TypeVar

from django.utils import timezone

from fangkong.core.actor import Actor
from fangkong.core.errors import Conflict, Invalid, NotFound
from fangkong.core.scope import Scope
from fangkong.jurisdictions.models import Jurisdiction
from fangkong.jurisdictions.selectors import jurisdiction_get
from fangkong.people.models import Person

REASON_MAX = 500
E = TypeVar("E", bound=StrEnum)

INVESTIGATION_SUBJECT = "tracing.investigation"
CLUSTER_SUBJECT = "tracing.cluster"
CLUSTER_KIND = "investigate_cluster"


def clean_reason(reason: str) -> str:
    text = " ".join((reason or "").split())
    if not text:
        raise Invalid("tracing.reason_required", "A reason is required", field="reason")
    if len(text) > REASON_MAX:
        raise Invalid("tracing.reason_too_long", "The reason is too long", field="reason")
    return text


def clean_basis(basis_type: str, basis_id: object) -> tuple[str, str]:
    kind = (basis_type or "").strip()
    ref = "" if basis_id is None else str(basis_id).strip()
    if not kind or len(kind) > 32:
        raise Invalid(
            "tracing.basis_type", "Name the kind of record behind this", field="basis_type"
        )
    if not ref or len(ref) > 64:
        raise Invalid("tracing.basis_id", "Name the record behind this", field="basis_id")
    return kind, ref


def enum_value(enum: type[E], value: object, field: str) -> E:
    try:
        return enum(str(value))
    except ValueError as exc:
        raise Invalid(f"tracing.{field}", f"Unknown {field} {value!r}", field=field) from exc


def aware(value: dt.datetime, field: str) -> dt.datetime:
    if timezone.is_naive(value):
        raise Invalid(f"tracing.{field}_naive", "Give a time with its zone", field=field)
    return value


def covered(actor: Actor, path: str, code: str = "tracing.not_found") -> None:
    """Outside the actor's scope looks exactly like missing."""
    if not actor.scope.covers(path):
        raise NotFound(code, "Not found")


def person_locked(actor: Actor, person_id: int) -> Person:
    """The person, locked for the change. Raises NotFound (missing or outside the scope),
    Conflict (merged into another record)."""
    person = Person.objects.select_for_update().filter(pk=person_id).first()
    if person is None or not actor.scope.covers(person.jurisdiction_path):
        raise NotFound("person.not_found", "Person not found")
    if person.merged_into_id is not None:
        raise Conflict("tracing.person_merged", "This record was merged into another person")
    return person


def path_codes(path: str) -> list[str]:
    return [p for p in path.split("/") if p]


def district_code(path: str) -> str:
    """The district (second level) of a jurisdiction path; the city for a city-level path."""
    codes = path_codes(path)
    return codes[1] if len(codes) > 1 else codes[0]


def work_node(actor: Actor, path: str) -> Jurisdiction:
    """Where an investigation's work lands: the district of the case, or the highest node on
    the case's path the actor covers (a town investigator's work stays in their town)."""
    codes = path_codes(path)
    for depth in range(2, len(codes) + 1):
        prefix = "/" + "/".join(codes[:depth]) + "/"
        if actor.scope.covers(prefix):
            return jurisdiction_get(scope=Scope.system(), code=codes[depth - 1])
    raise NotFound("tracing.not_found", "Not found")
