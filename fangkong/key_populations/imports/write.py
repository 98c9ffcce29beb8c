"""Writing a checked member list in one transaction: persons found or registered, members
upserted, sampling days recorded, due dates refreshed, and (with `replace`) members missing from
the file leaving the list; or, for a refused file, only the attempt and its problems."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import pgettext

from fangkong.audit.services import record
from fangkong.core.actor import Actor, system_actor
from fangkong.jurisdictions.models import Jurisdiction, Level
from fangkong.key_populations import rules
from fangkong.key_populations.imports.rows import (
    LOOKUP_CHUNK,
    MAX_KEPT_ERRORS,
    Checked,
    Row,
    RowError,
)
from fangkong.key_populations.models import Employer, Member, MemberImport, MemberTest
from fangkong.key_populations.services import (
    close_work,
    employer_counts_refresh,
)
from fangkong.people import protect
from fangkong.people.models import Person
from fangkong.people.services import person_register
from fangkong.policy.sections.key_populations import KeyPopulationRules


def chunks(items: list[Any], size: int = LOOKUP_CHUNK) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def grids_of(checked: Checked) -> dict[str, Jurisdiction]:
    codes = sorted({code for _row, code in checked.grid_refs})
    found: dict[str, Jurisdiction] = {}
    for chunk in chunks(codes):
        found.update((j.code, j) for j in Jurisdiction.objects.filter(code__in=chunk))
    for row, code in checked.grid_refs:
        node = found.get(code)
        if node is None:
            checked.errors.append(
                RowError(row, "home_grid", pgettext("member list", "no grid has this code"))
            )
        elif node.level != Level.GRID:
            checked.errors.append(
                RowError(row, "home_grid", pgettext("member list", "the code is not a grid's"))
            )
    return found


def persons_of(rows: list[Row]) -> dict[str, int]:
    """document blind index -> active person id, for the rows' numbers."""
    keys = sorted({protect.doc_index(r.number) for r in rows})
    found: dict[str, int] = {}
    for chunk in chunks(keys):
        found.update(
            Person.objects.filter(doc_bidx__in=chunk, merged_into__isnull=True).values_list(
                "doc_bidx", "pk"
            )
        )
    return found


@dataclass(frozen=True, slots=True)
class ImportContext:
    actor: Actor
    employer: Employer
    filename: str
    digest: str
    replace: bool
    today: dt.date
    now: dt.datetime
    version: int
    section: KeyPopulationRules

    def attempt(self, checked: Checked, outcome: str, **counts: int) -> MemberImport:
        return MemberImport.objects.create(
            employer=self.employer,
            jurisdiction_path=self.employer.jurisdiction_path,
            filename=self.filename[:200],
            sha256=self.digest,
            replace=self.replace,
            outcome=outcome,
            rows=checked.total,
            errors=[[e.row, e.column, e.reason] for e in checked.errors[:MAX_KEPT_ERRORS]],
            error_count=len(checked.errors),
            by=self.actor.label[:150],
            at=self.now,
            **counts,
        )


def refuse(ctx: ImportContext, checked: Checked) -> MemberImport:
    checked.errors.sort(key=lambda e: (e.row, e.column))
    with transaction.atomic():
        attempt = ctx.attempt(checked, MemberImport.Outcome.REFUSED)
        record(
            actor=ctx.actor,
            action="keypop.import",
            target=attempt,
            outcome="refused",
            detail={
                "employer_id": ctx.employer.pk,
                "rows": checked.total,
                "errors": len(checked.errors),
            },
        )
    return attempt


def _resolve_persons(
    ctx: ImportContext, rows: list[Row], grids: dict[str, Jurisdiction]
) -> tuple[dict[int, int], int]:
    """(row -> person id, persons registered): found by document number, else registered."""
    persons = persons_of(rows)
    registrar = system_actor(f"keypop.import:{ctx.actor.label}"[:150])
    registered = 0
    person_of: dict[int, int] = {}
    for row in rows:
        key = protect.doc_index(row.number)
        pid = persons.get(key)
        if pid is None:
            grid = grids.get(row.home_grid) if row.home_grid else None
            person, created = person_register(
                actor=registrar,
                doc_type=row.doc_type,
                doc_number=row.number,
                name=row.name,
                phone=row.phone,
                grid=grid,
                jurisdiction=None if grid is not None else ctx.employer.jurisdiction,
            )
            pid = persons[key] = person.pk
            registered += int(created)
        person_of[row.row] = pid
    return person_of, registered


@dataclass(slots=True)
class _Upsert:
    members: dict[int, Member]  # person id -> member (existing and new)
    created: set[int]  # member ids
    changed: set[int]
    unchanged: int


def _upsert_members(ctx: ImportContext, rows: list[Row], person_of: dict[int, int]) -> _Upsert:
    existing: dict[int, Member] = {}
    for chunk in chunks(sorted(set(person_of.values()))):
        existing.update(
            (m.person_id, m)
            for m in Member.objects.select_for_update().filter(
                employer=ctx.employer, person_id__in=chunk
            )
        )
    new: list[Member] = []
    changed: set[int] = set()
    unchanged = 0
    for row in rows:
        pid = person_of[row.row]
        member = existing.get(pid)
        if member is None:
            member = existing[pid] = Member(
                employer=ctx.employer,
                person_id=pid,
                group_kind=row.group,
                jurisdiction_path=ctx.employer.jurisdiction_path,
                joined_on=ctx.today,
                next_due_on=ctx.today,
                status=rules.MemberStatus.DUE,
                created_at=ctx.now,
                updated_at=ctx.now,
            )
            new.append(member)
        elif not member.active or member.group_kind != row.group:
            member.active, member.left_on, member.group_kind = True, None, row.group
            member.updated_at = ctx.now
            changed.add(member.pk)
        else:
            unchanged += 1
    Member.objects.bulk_create(new, batch_size=1000)
    if any(m.pk is None for m in new):  # pragma: no cover - a database without RETURNING
        ids = dict(
            Member.objects.filter(
                employer=ctx.employer, person_id__in=[m.person_id for m in new]
            ).values_list("person_id", "pk")
        )
        for m in new:
            m.pk = ids[m.person_id]
    return _Upsert(existing, {m.pk for m in new}, changed, unchanged)


def _refresh_due(ctx: ImportContext, touched: list[Member]) -> None:
    """Due day and status of the members the file changed, by the rules (as the recompute)."""
    for m in touched:
        interval = rules.interval_days(ctx.section, m.group_kind)
        m.next_due_on = rules.next_due(
            joined_on=m.joined_on, last_tested_on=m.last_tested_on, interval=interval
        )
        m.status = rules.status_on(
            due_on=m.next_due_on, today=ctx.today, grace_days=ctx.section.grace_days
        )
    fields = ["active", "left_on", "group_kind", "last_tested_on", "next_due_on", "status"]
    Member.objects.bulk_update(touched, [*fields, "updated_at"], batch_size=1000)
    tested = [m for m in touched if m.status != rules.MemberStatus.OVERDUE and m.work_due_on]
    close_work(members=tested, outcome="tested")


def write(ctx: ImportContext, checked: Checked, grids: dict[str, Jurisdiction]) -> MemberImport:
    person_of, registered = _resolve_persons(ctx, checked.rows, grids)
    upsert = _upsert_members(ctx, checked.rows, person_of)
    recorded, tests = _tests(ctx.actor, checked.rows, person_of, upsert.members, ctx.now)
    moved = upsert.created | upsert.changed | tests
    _refresh_due(ctx, [m for m in upsert.members.values() if m.pk in moved])
    kept = set(person_of.values())
    left = _leave_missing(ctx.employer, kept, ctx.today, ctx.now) if ctx.replace else 0
    employer_counts_refresh(employer_ids=[ctx.employer.pk])
    counts = {
        "created": len(upsert.created),
        "updated": len(upsert.changed),
        "unchanged": upsert.unchanged,
        "left": left,
        "tests": recorded,
        "persons_registered": registered,
    }
    attempt = ctx.attempt(checked, MemberImport.Outcome.DONE, **counts)
    record(
        actor=ctx.actor,
        action="keypop.import",
        target=attempt,
        detail={
            "employer_id": ctx.employer.pk,
            "rows": checked.total,
            **counts,
            "policy_version": ctx.version,
        },
    )
    return attempt


def _tests(
    actor: Actor,
    rows: list[Row],
    person_of: dict[int, int],
    members: dict[int, Member],
    now: dt.datetime,
) -> tuple[int, set[int]]:
    """Record the rows' sampling days (one per member and day); returns (tests recorded,
    members whose last test day moved)."""
    wanted = [(members[person_of[r.row]], r.sampled_on) for r in rows if r.sampled_on is not None]
    if not wanted:
        return 0, set()
    ids = [m.pk for m, _d in wanted]
    have: set[tuple[int, dt.date]] = set()
    for chunk in chunks(ids):
        have.update(
            MemberTest.objects.filter(member_id__in=chunk).values_list("member_id", "sampled_on")
        )
    new = [
        MemberTest(
            member=m,
            jurisdiction_path=m.jurisdiction_path,
            sampled_on=d,
            source=MemberTest.Source.IMPORT,
            recorded_by=actor.label[:150],
            recorded_at=now,
        )
        for m, d in wanted
        if (m.pk, d) not in have
    ]
    MemberTest.objects.bulk_create(new, batch_size=1000)
    moved: set[int] = set()
    for m, d in wanted:
        later = rules.later(m.last_tested_on, d)
        if later != m.last_tested_on:
            m.last_tested_on = later
            moved.add(m.pk)
    return len(new), moved


def _leave_missing(employer: Employer, kept: set[int], today: dt.date, now: dt.datetime) -> int:
    gone = [
        m
        for m in Member.objects.filter(employer=employer, active=True).only(
            "pk", "person_id", "work_due_on"
        )
        if m.person_id not in kept
    ]
    if not gone:
        return 0
    for chunk in chunks([m.pk for m in gone]):
        Member.objects.filter(pk__in=chunk).update(active=False, left_on=today, updated_at=now)
    close_work(members=gone, outcome="left the key-population list")
    return len(gone)
