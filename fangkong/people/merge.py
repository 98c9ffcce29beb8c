"""Merging two records of the same person: every reference to the duplicate moves to the survivor.

Public through `people.services.person_merge`. The duplicate row stays, pointing at the
survivor, so nothing that referred to it is lost.
"""

from __future__ import annotations

from django.db import IntegrityError, models, transaction

from fangkong.audit import services as audit
from fangkong.core import clock
from fangkong.core.actor import Actor, require
from fangkong.core.errors import Conflict, Invalid, NotFound
from fangkong.core.perms import Perm
from fangkong.people.models import Person
from fangkong.people.scope import check_in_scope as _check_in_scope


def _reverse_relations() -> list[models.ForeignObjectRel]:
    """Every FK and one-to-one that points at Person, including hidden ones (related_name="+")
    and the through tables of many-to-many fields, except the merged_into self-reference.

    `_meta.related_objects` leaves out hidden relations, so a module that writes
    `ForeignKey(Person, related_name="+")` would be silently skipped by a merge; we ask for them.
    """
    rels: list[models.ForeignObjectRel] = []
    for f in Person._meta.get_fields(include_hidden=True):
        if not isinstance(f, models.ForeignObjectRel) or f.many_to_many:
            continue  # many-to-many: handled through its through table's foreign key
        if f.field.model is Person and f.field.name == "merged_into":
            continue
        rels.append(f)
    return rels


def _relation_label(rel: models.ForeignObjectRel) -> str:
    return f"{rel.field.model._meta.label_lower}.{rel.field.name}"


def _repoint(rel: models.ForeignObjectRel, survivor: Person, duplicate: Person) -> int:
    """Move the duplicate's rows to the survivor: the count moved, or minus the count dropped.

    A unique link both persons hold (a one-to-one row each) is a Conflict, unless the
    model declares `PERSON_MERGE = "keep_survivor"`.
    """
    model = rel.field.model  # the model that holds the foreign key
    field = rel.field.name
    rows = model._base_manager.filter(**{field: duplicate})
    if model._meta.auto_created:
        # A many-to-many link table: a link the survivor already has is the same fact; drop it.
        others = [
            f.name
            for f in model._meta.fields
            if isinstance(f, models.ForeignKey) and f.name != field
        ]
        kept = model._base_manager.filter(**{field: survivor}).values_list(*others)
        for values in kept:
            rows.filter(**dict(zip(others, values, strict=True))).delete()
    elif (
        # A per-person row the owning module can rebuild (e.g. a denormalised status):
        # the module opted in to keeping the survivor's and dropping the duplicate's.
        rel.one_to_one
        and getattr(model, "PERSON_MERGE", "") == "keep_survivor"
        and model._base_manager.filter(**{field: survivor}).exists()
    ):
        return -rows.delete()[1].get(model._meta.label, 0)
    try:
        with transaction.atomic():
            return rows.update(**{field: survivor})
    except IntegrityError as exc:
        raise Conflict(
            "person.merge_conflict",
            "Both records hold a unique link of the same kind; resolve it before merging",
            relation=_relation_label(rel),
        ) from exc


@transaction.atomic
def person_merge(*, actor: Actor, survivor: Person, duplicate: Person, reason: str) -> Person:
    """Merge a duplicate record into the survivor; the duplicate row stays, pointing at it.

    Every reference to the duplicate (any model, present or future) is moved to the survivor.
    Raises NotFound (either outside scope), Conflict (same person, already merged, or a
    unique link both hold).
    """
    require(actor, Perm.PERSON_MERGE)
    _check_in_scope(actor, survivor.jurisdiction_path)
    _check_in_scope(actor, duplicate.jurisdiction_path)
    if not (reason or "").strip():
        raise Invalid("person.reason_required", "A reason is required", field="reason")
    if survivor.pk == duplicate.pk:
        raise Conflict("person.merge_self", "A person cannot be merged into itself")
    # Lock both rows (PostgreSQL) so concurrent merges of the same pair serialize.
    locked = {
        p.pk: p
        for p in Person.objects.select_for_update().filter(pk__in=[survivor.pk, duplicate.pk])
    }
    if len(locked) != 2:
        raise NotFound("person.not_found", "Person not found")
    if any(locked[p.pk].merged_into_id is not None for p in (survivor, duplicate)):
        raise Conflict("person.merged", "One of the records was already merged")

    counts: dict[str, int] = {}
    dropped: dict[str, int] = {}
    for rel in _reverse_relations():
        moved = _repoint(rel, survivor, duplicate)
        if moved > 0:
            counts[_relation_label(rel)] = moved
        elif moved < 0:
            dropped[_relation_label(rel)] = -moved
    # Records merged into the duplicate earlier now point straight at the survivor.
    earlier = Person.objects.filter(merged_into=duplicate).update(merged_into=survivor)
    if earlier:
        counts["people.person.merged_into"] = earlier

    # Fill the survivor's blanks from the duplicate, so the merge loses nothing visible.
    filled: list[str] = []
    for field, bidx in (("phone", "phone_bidx"), ("address", None)):
        if not getattr(survivor, field) and getattr(duplicate, field):
            setattr(survivor, field, getattr(duplicate, field))
            filled.append(field)
            if bidx:
                setattr(survivor, bidx, getattr(duplicate, bidx))
                filled.append(bidx)
    household = duplicate.household
    if survivor.household_id is None and household and household.grid_id == survivor.grid_id:
        survivor.household = household
        filled.append("household")
    now = clock.now()
    survivor.updated_at = now
    survivor.save(update_fields=[*filled, "updated_at"])
    duplicate.merged_into, duplicate.updated_at = survivor, now
    duplicate.save(update_fields=["merged_into", "updated_at"])
    audit.record(
        actor=actor,
        action="people.merge",
        target=survivor,
        reason=reason.strip(),
        detail={
            "duplicate_id": duplicate.pk,
            "duplicate_path": duplicate.jurisdiction_path,
            "moved": counts,
            "dropped": dropped,
            "filled": [f for f in filled if not f.endswith("_bidx")],
        },
    )
    return survivor
