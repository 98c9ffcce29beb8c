"""Reporting units: registration (from the place registry or by hand), operator accounts and
API tokens, and which units an actor may report for."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import IntegrityError, transaction

from fangkong.accounts.models import User
from fangkong.accounts.roles import Role
from fangkong.accounts.services import token_create
from fangkong.audit.services import record
from fangkong.core import clock
from fangkong.core.actor import Actor, require, system_actor
from fangkong.core.errors import Conflict, Invalid, NotFound
from fangkong.core.perms import Perm
from fangkong.core.scope import within
from fangkong.core.text import fold
from fangkong.jurisdictions.models import Jurisdiction, Level
from fangkong.places.models import Place
from fangkong.sentinel.models import Unit, UnitKind, UnitOperator, UnitToken

NAME_MAX = 120
CODE_MAX = 24


def _ancestor_code(path: str, level: Level) -> str:
    """The code of the node at `level` on a path ("" when the path is above it)."""
    parts = [p for p in path.split("/") if p]
    return parts[level - 1] if len(parts) >= level else ""


def _covered(actor: Actor, path: str) -> None:
    if not actor.scope.covers(path):
        raise NotFound("sentinel.unit_not_found", "Reporting unit not found")


def _new_unit(*, code: str, name: str, kind: str, node: Jurisdiction, place: Place | None) -> Unit:
    return Unit(
        code=code,
        name=name,
        kind=kind,
        place=place,
        jurisdiction=node,
        jurisdiction_path=node.path,
        town_code=_ancestor_code(node.path, Level.TOWN),
        district_code=_ancestor_code(node.path, Level.DISTRICT),
        created_at=clock.now(),
    )


@transaction.atomic
def unit_register(
    *,
    actor: Actor,
    kind: str,
    jurisdiction: Jurisdiction | None = None,
    place: Place | None = None,
    code: str = "",
    name: str = "",
) -> Unit:
    """Register a reporting unit, from a registry place (its code, name, node) or by hand.

    Raises Invalid (bad kind, name or code), NotFound (node or place outside scope), Conflict
    (the code or place is already a unit).
    """
    require(actor, Perm.SENTINEL_MANAGE)
    if kind not in UnitKind.values:
        raise Invalid("sentinel.unit_kind", f"Unknown unit kind {kind!r}", field="kind")
    if place is not None:
        _covered(actor, place.jurisdiction_path)
        node = place.jurisdiction
        code = code or place.code
        name = name or place.name
    elif jurisdiction is not None:
        _covered(actor, jurisdiction.path)
        node = jurisdiction
    else:
        raise Invalid(
            "sentinel.unit_jurisdiction", "A place or a jurisdiction is required", field="place"
        )
    code, name = fold(code).strip(), " ".join(fold(name).split())
    if not code or len(code) > CODE_MAX or not code.replace("-", "").isalnum():
        raise Invalid(
            "sentinel.unit_code", "Code must be 1-24 letters, digits or dashes", field="code"
        )
    if not name or len(name) > NAME_MAX:
        raise Invalid("sentinel.unit_name", "Name is required (at most 120 characters)")
    if Unit.objects.filter(code=code).exists() or (
        place is not None and Unit.objects.filter(place=place).exists()
    ):
        raise Conflict("sentinel.unit_exists", "This unit is already registered")
    unit = _new_unit(code=code, name=name, kind=kind, node=node, place=place)
    try:
        with transaction.atomic():
            unit.save(force_insert=True)
    except IntegrityError:
        raise Conflict("sentinel.unit_exists", "This unit is already registered") from None
    record(actor=actor, action="sentinel.unit_register", target=unit, detail={"kind": kind})
    return unit


@transaction.atomic
def units_from_places(*, actor: Actor, kinds: Sequence[str] = tuple(UnitKind.values)) -> int:
    """Register every active registry place of the sentinel kinds in the actor's scope that is
    not a unit yet (set-based: one read, bulk inserts). Returns how many were added."""
    require(actor, Perm.SENTINEL_MANAGE)
    taken = Unit.objects.filter(place__isnull=False).values("place_id")
    places = (
        within(Place.objects.filter(kind__in=kinds, active=True), actor.scope)
        .exclude(pk__in=taken)
        .exclude(code__in=Unit.objects.values("code"))
        .select_related("jurisdiction")
        .order_by("id")
    )
    batch: list[Unit] = []
    added = 0
    for place in places.iterator(chunk_size=2000):
        batch.append(
            _new_unit(
                code=place.code,
                name=place.name[:NAME_MAX],
                kind=place.kind,
                node=place.jurisdiction,
                place=place,
            )
        )
        if len(batch) >= 2000:
            added += len(Unit.objects.bulk_create(batch))
            batch = []
    if batch:
        added += len(Unit.objects.bulk_create(batch))
    if added:
        record(actor=actor, action="sentinel.units_from_places", detail={"added": added})
    return added


@transaction.atomic
def unit_operator_add(*, actor: Actor, unit: Unit, user: User) -> UnitOperator:
    """Let a pharmacy-role account report for the unit. The account must already see the unit
    (its jurisdictions cover the unit's node). Raises Invalid otherwise."""
    require(actor, Perm.SENTINEL_MANAGE)
    _covered(actor, unit.jurisdiction_path)
    if user.role != Role.PHARMACY or not user.is_active:
        raise Invalid("sentinel.operator_role", "Only an active pharmacy/clinic account can report")
    paths = [j.path for j in user.jurisdictions.all()]
    if not any(unit.jurisdiction_path.startswith(p) for p in paths):
        raise Invalid(
            "sentinel.operator_scope", "The account's jurisdiction does not cover this unit"
        )
    link, created = UnitOperator.objects.get_or_create(
        unit=unit, user=user, defaults={"created_at": clock.now()}
    )
    if created:
        record(
            actor=actor,
            action="sentinel.operator_add",
            target=unit,
            detail={"user_id": user.pk},
        )
    return link


@transaction.atomic
def unit_token_issue(*, actor: Actor, unit: Unit, name: str) -> tuple[UnitToken, str]:
    """Issue an API token for the unit's point-of-sale or hospital system; returns the link
    and the secret (shown once). The token has the pharmacy role and the unit's node only.

    Staff who manage units do not administer accounts, so the token itself is created by the
    system actor; what it can do is fixed here (role and one node), and both audit rows name
    the unit and the person who asked.
    """
    require(actor, Perm.SENTINEL_MANAGE)
    _covered(actor, unit.jurisdiction_path)
    label = " ".join(fold(name).split())[:60] or "POS"
    token, secret = token_create(
        actor=system_actor(f"sentinel for {actor.label}"[:150]),
        name=f"{unit.code} {label}"[:100],
        role=Role.PHARMACY,
        jurisdictions=[unit.jurisdiction],
    )
    link = UnitToken.objects.create(unit=unit, token=token, created_at=clock.now())
    record(actor=actor, action="sentinel.token_issue", target=unit, detail={"token_id": token.pk})
    return link, secret


def units_reported_by(actor: Actor) -> list[int]:
    """Ids of the units the actor reports for as an operator or through a unit token."""
    if actor.kind == "user" and actor.id is not None:
        return list(UnitOperator.objects.filter(user_id=actor.id).values_list("unit_id", flat=True))
    if actor.kind == "token" and actor.id is not None:
        return list(UnitToken.objects.filter(token_id=actor.id).values_list("unit_id", flat=True))
    return []


def check_reporter(actor: Actor, unit: Unit) -> None:
    """The actor may file records for the unit: it holds sentinel.report and is one of the
    unit's operators or tokens, or it manages sentinel units there. Raises NotFound (outside
    scope) or NotAllowed."""
    _covered(actor, unit.jurisdiction_path)
    if actor.can(Perm.SENTINEL_MANAGE):
        return
    require(actor, Perm.SENTINEL_REPORT)
    if unit.pk not in units_reported_by(actor):
        # A pharmacy account sees only its own units: another unit next door looks missing.
        raise NotFound("sentinel.unit_not_found", "Reporting unit not found")
