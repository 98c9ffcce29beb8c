"""Rounds, their areas and sampling sites; excusals."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db import transaction
from django.db.models import F

from fangkong.audit.services import record
from fangkong.control.rules import common_path
from fangkong.core import clock
from fangkong.core.actor import Actor, require
from fangkong.core.errors import Conflict, Invalid
from fangkong.core.perms import Perm
from fangkong.jurisdictions.models import Jurisdiction, Level
from fangkong.mass_testing import rules
from fangkong.mass_testing.models import Coverage, Excusal, Round, RoundArea, RoundMember, Site
from fangkong.mass_testing.services._common import in_round, in_scope, section
from fangkong.mass_testing.services.coverage import coverage_refresh
from fangkong.people.models import Person
from fangkong.policy.sections.mass_testing import AreaType, PoolRule


def _text(value: str, field: str, limit: int) -> str:
    text = " ".join((value or "").split())
    if not text:
        raise Invalid("mass_testing.required", f"{field} is required", field=field)
    if len(text) > limit:
        raise Invalid("mass_testing.too_long", f"{field} is too long", field=field)
    return text


def _aware(value: dt.datetime, field: str) -> dt.datetime:
    if value.tzinfo is None:
        raise Invalid("mass_testing.naive_time", "Times must carry a time zone", field=field)
    return value


@transaction.atomic
def round_create(
    *,
    actor: Actor,
    name: str,
    areas: Sequence[tuple[Jurisdiction, str]],
    starts_at: dt.datetime,
    deadline: dt.datetime | None = None,
) -> Round:
    """Open a round over nodes, each with its area type (the pooling rule follows from it).

    Without a deadline, the rulebook's default applies: a city-wide round gets days, a
    delimited area a day. Raises Invalid (no area, bad type, overlap, deadline before start),
    NotFound (a node outside the actor's scope).
    """
    require(actor, Perm.TESTING_MANAGE)
    name = _text(name, "name", 100)
    _aware(starts_at, "starts_at")
    if not areas:
        raise Invalid("mass_testing.no_area", "Choose at least one area", field="areas")
    book, version = section()
    seen: list[str] = []
    cleaned: list[tuple[Jurisdiction, str, PoolRule]] = []
    for node, area_type in areas:
        in_scope(actor, node.path, "jurisdiction.not_found")
        try:
            rule = rules.pool_rule(book, area_type)
        except ValueError as exc:
            raise Invalid(
                "mass_testing.area_type", f"Unknown area type {area_type!r}", field="areas"
            ) from exc
        if node.path in seen:
            raise Invalid("mass_testing.area_twice", "An area is listed twice", field="areas")
        seen.append(node.path)
        cleaned.append((node, AreaType(area_type).value, rule))
    whole_city = any(node.level <= Level.DISTRICT for node, _, _ in cleaned)
    if deadline is None:
        deadline = rules.default_deadline(book, starts_at=starts_at, whole_city=whole_city)
    _aware(deadline, "deadline")
    if deadline <= starts_at:
        raise Invalid("mass_testing.deadline", "The deadline is before the start", field="deadline")
    now = clock.now()
    rnd = Round.objects.create(
        name=name,
        jurisdiction_path=common_path(seen),
        starts_at=starts_at,
        deadline=deadline,
        policy_version=version,
        created_by=actor.label[:150],
        created_at=now,
    )
    RoundArea.objects.bulk_create(
        [
            RoundArea(
                round=rnd,
                jurisdiction=node,
                jurisdiction_path=node.path,
                area_type=area_type,
                pooling=rule.pooling.value,
                pool_size=rule.pool_size,
            )
            for node, area_type, rule in cleaned
        ]
    )
    coverage_refresh(rnd=rnd)  # the counter rows, with the residents due in each grid
    record(
        actor=actor,
        action="mass_testing.round_create",
        target=rnd,
        detail={
            "areas": [[n.code, t] for n, t, _ in cleaned],
            "deadline": deadline.isoformat(),
            "policy_version": version,
        },
    )
    return rnd


@transaction.atomic
def round_close(*, actor: Actor, rnd: Round, reason: str) -> Round:
    """Close a round: no more scans; results and retests still land."""
    require(actor, Perm.TESTING_MANAGE)
    in_scope(actor, rnd.jurisdiction_path, "mass_testing.round_not_found")
    reason = _text(reason, "reason", 300)
    rnd = Round.objects.select_for_update().get(pk=rnd.pk)
    if rnd.status == Round.Status.CLOSED:
        return rnd
    rnd.status = Round.Status.CLOSED
    rnd.save(update_fields=["status"])
    record(actor=actor, action="mass_testing.round_close", target=rnd, reason=reason)
    return rnd


@transaction.atomic
def site_create(
    *,
    actor: Actor,
    rnd: Round,
    node: Jurisdiction,
    name: str,
    opens_at: dt.datetime,
    closes_at: dt.datetime,
    samplers: int,
) -> Site:
    """Register a sampling site of a round at a node inside one of its areas."""
    require(actor, Perm.TESTING_MANAGE)
    in_round(actor, rnd)
    in_scope(actor, node.path, "jurisdiction.not_found")
    if not any(node.path.startswith(a.jurisdiction_path) for a in rnd.areas.all()):
        raise Invalid("mass_testing.site_outside", "The site lies outside the round", field="node")
    name = _text(name, "name", 100)
    if _aware(closes_at, "closes_at") <= _aware(opens_at, "opens_at"):
        raise Invalid("mass_testing.hours", "The site closes before it opens", field="closes_at")
    if not 1 <= samplers <= 500:
        raise Invalid("mass_testing.samplers", "Samplers: 1 to 500", field="samplers")
    site = Site.objects.create(
        round=rnd,
        jurisdiction=node,
        jurisdiction_path=node.path,
        name=name,
        opens_at=opens_at,
        closes_at=closes_at,
        samplers=samplers,
    )
    record(
        actor=actor,
        action="mass_testing.site_create",
        target=site,
        detail={"round_id": rnd.pk, "node": node.code, "samplers": samplers},
    )
    return site


@transaction.atomic
def excusal_record(
    *, actor: Actor, rnd: Round, person: Person, reason: str, note: str = ""
) -> Excusal:
    """Excuse a person due in the round (bedridden, away, already under control), with the
    reason. Recording the same excusal again changes nothing; another reason replaces it.
    Raises NotFound for a person outside the actor's scope, Invalid for a person outside the
    round or an unknown reason."""
    require(actor, Perm.TESTING_MANAGE)
    in_round(actor, rnd)
    in_scope(actor, person.jurisdiction_path, "person.not_found")
    if reason not in Excusal.Reason.values:
        raise Invalid("mass_testing.excusal_reason", "Unknown reason", field="reason")
    if not any(person.jurisdiction_path.startswith(a.jurisdiction_path) for a in rnd.areas.all()):
        raise Invalid("mass_testing.not_due", "This person is not due in the round")
    note = " ".join((note or "").split())[:300]
    if reason == Excusal.Reason.OTHER and not note:
        raise Invalid("mass_testing.note_required", "Say why", field="note")
    existing = Excusal.objects.select_for_update().filter(round=rnd, person=person).first()
    if existing is not None:
        if existing.reason == reason and existing.note == note:
            return existing
        if rnd.status == Round.Status.CLOSED:
            raise Conflict("mass_testing.round_closed", "The round is closed")
        existing.reason, existing.note = reason, note
        existing.save(update_fields=["reason", "note"])
        excusal = existing
    else:
        excusal = Excusal.objects.create(
            round=rnd,
            person=person,
            jurisdiction_path=person.jurisdiction_path,
            reason=reason,
            note=note,
            created_by=actor.label[:150],
            created_at=clock.now(),
        )
        _count_excusal(rnd, person.pk, person.grid_id, +1)
    record(
        actor=actor,
        action="mass_testing.excusal_record",
        target=excusal,
        reason=reason,
        detail={"round_id": rnd.pk, "person_id": person.pk},
    )
    return excusal


@transaction.atomic
def excusal_withdraw(*, actor: Actor, excusal: Excusal) -> None:
    """Withdraw an excusal: the person is due again."""
    require(actor, Perm.TESTING_MANAGE)
    in_scope(actor, excusal.jurisdiction_path, "mass_testing.excusal_not_found")
    record(
        actor=actor,
        action="mass_testing.excusal_withdraw",
        target=excusal,
        detail={"round_id": excusal.round_id, "person_id": excusal.person_id},
    )
    grid_id = Person.objects.filter(pk=excusal.person_id).values_list("grid_id", flat=True).first()
    _count_excusal(excusal.round, excusal.person_id, grid_id, -1)
    excusal.delete()


def _count_excusal(rnd: Round, person_id: int, grid_id: int | None, step: int) -> None:
    """An excusal of a resident not sampled yet moves them from due to excused (step +1),
    its withdrawal back (step -1); a sampled resident stays due and sampled. (A batch
    sampling the person in the very same moment can leave the grid one off until the next
    recount corrects it.)"""
    if grid_id is None or RoundMember.objects.filter(round=rnd, person_id=person_id).exists():
        return
    Coverage.objects.filter(round=rnd, grid_id=grid_id).update(
        due=F("due") - step, excused=F("excused") + step
    )
