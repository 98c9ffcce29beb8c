"""The periodic recompute: last test days from mass testing, next due days, due and overdue,
the employers' counters, and grid work for the overdue. Set-based: a few statements per
group, whatever the number of members; only the members whose state changed are touched.

1. Results: mass_testing.selectors.last_results for every active member (chunks of ids, one
   query each), sampled within the longest interval of the rulebook plus a day; a later
   sampling day moves `last_tested_on` forward (never back: the employer's own records count).
2. Next due: per group, `joined_on` for the never tested, else `last_tested_on + interval`
   (SQLite `date(x, '+N days')`, PostgreSQL `date + integer`: calendar days, as rules.next_due).
3. Status: ok before the due day, due up to due + grace, overdue after (as rules.status_on),
   compared against today's date as a parameter.
4. Counters: one UPDATE of the employers.
5. Work: overdue members without work for their current due day get an assignment in the grid
   where they live (Duty.SCHEDULED_TEST deadline), at most WORK_BATCH per run; members no
   longer overdue get theirs closed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction

from fangkong.assignments.services import assignment_create
from fangkong.audit.services import record
from fangkong.core import clock
from fangkong.core.actor import Actor
from fangkong.core.scope import Scope
from fangkong.jurisdictions.models import Jurisdiction
from fangkong.key_populations import rules
from fangkong.key_populations.models import Member, RecomputeRun
from fangkong.key_populations.services import (
    WORK_KIND,
    WORK_SUBJECT,
    close_work,
    employer_counts_refresh,
)
from fangkong.mass_testing.selectors import last_results
from fangkong.policy.schema import Duty
from fangkong.policy.sections.key_populations import GroupKind
from fangkong.policy.selectors import rulebook_in_force

RESULT_CHUNK = 5000
WORK_BATCH = 2000


@dataclass(frozen=True, slots=True)
class RecomputeResult:
    day: dt.date
    members: int
    tests_seen: int
    due_changed: int
    status_changed: int
    overdue: int
    work_created: int
    work_closed: int
    policy_version: int


def _sync_results(*, today: dt.date, lookback_days: int) -> int:
    """Move last_tested_on forward from mass testing; returns how many members moved."""
    since = clock.local_midnight(today - dt.timedelta(days=lookback_days))
    moved = 0
    last_pk = 0
    while True:
        chunk = list(
            Member.objects.filter(active=True, pk__gt=last_pk)
            .order_by("pk")
            .values_list("pk", "person_id", "last_tested_on")[:RESULT_CHUNK]
        )
        if not chunk:
            return moved
        last_pk = chunk[-1][0]
        found = last_results(
            scope=Scope.system(), person_ids=[p for _m, p, _d in chunk], since=since
        )
        if not found:
            continue
        updates: list[Member] = []
        for pk, person_id, last in chunk:
            result = found.get(person_id)
            if result is None:
                continue
            day = clock.to_local(result.last_sampled_at).date()
            if last is None or day > last:
                updates.append(Member(pk=pk, last_tested_on=day))
        Member.objects.bulk_update(updates, ["last_tested_on"], batch_size=1000)
        moved += len(updates)


def _add_days_sql(column: str) -> str:
    if connection.vendor == "sqlite":
        return f"date({column}, '+' || %s || ' days')"
    return f"({column} + CAST(%s AS integer))"


def _day(value: dt.date) -> object:
    return connection.ops.adapt_datefield_value(value)


def _next_due_sql(*, group: str, interval: int) -> int:
    table = Member._meta.db_table
    expr = f"CASE WHEN last_tested_on IS NULL THEN joined_on ELSE {_add_days_sql('last_tested_on')} END"
    with connection.cursor() as cur:
        cur.execute(
            f"UPDATE {table} SET next_due_on = {expr} "  # noqa: S608 - no user input in the SQL
            f"WHERE active = %s AND group_kind = %s AND next_due_on <> {expr}",
            [interval, True, group, interval],
        )
        return int(cur.rowcount)


def _status_sql(*, today: dt.date, grace_days: int, now: dt.datetime) -> int:
    table = Member._meta.db_table
    last_due = today - dt.timedelta(days=grace_days)  # due on or after this: not yet overdue
    expr = "CASE WHEN next_due_on > %s THEN %s WHEN next_due_on >= %s THEN %s ELSE %s END"
    args: list[Any] = [
        _day(today),
        rules.MemberStatus.OK.value,
        _day(last_due),
        rules.MemberStatus.DUE.value,
    ]
    args.append(rules.MemberStatus.OVERDUE.value)
    with connection.cursor() as cur:
        cur.execute(
            f"UPDATE {table} SET status = {expr}, updated_at = %s "  # noqa: S608
            f"WHERE active = %s AND status <> {expr}",
            [*args, connection.ops.adapt_datetimefield_value(now), True, *args],
        )
        return int(cur.rowcount)


def _nodes_for(members: list[Member]) -> dict[str, Jurisdiction]:
    paths = {m.person.jurisdiction_path for m in members if m.person.grid_id is None}
    return {j.path: j for j in Jurisdiction.objects.filter(path__in=paths)} if paths else {}


def _create_work(*, actor: Actor) -> int:
    """Grid work for overdue members that have none for their current due day."""
    from django.db.models import F, Q

    todo = list(
        Member.objects.filter(active=True, status=rules.MemberStatus.OVERDUE)
        .filter(Q(work_due_on__isnull=True) | ~Q(work_due_on=F("next_due_on")))
        .select_related("person", "person__grid", "employer")
        .order_by("next_due_on", "pk")[:WORK_BATCH]
    )
    nodes = _nodes_for(todo)
    made = 0
    for m in todo:
        node = m.person.grid or nodes.get(m.person.jurisdiction_path)
        if node is None:
            continue
        if m.work_due_on is not None:  # overdue on an older due day: that item is superseded
            close_work(members=[m], outcome="superseded by a later due day")
        assignment_create(
            actor=actor,
            kind=WORK_KIND,
            jurisdiction=node,
            title=f"重点人群核酸检测逾期 · {m.employer.name}"[:200],
            subject_type=WORK_SUBJECT,
            subject_id=m.pk,
            person_id=m.person_id,
            duty=Duty.SCHEDULED_TEST,
            dedupe_key=f"keypop:{m.pk}:{m.next_due_on.isoformat()}",
            detail={"employer_id": m.employer_id, "due_on": m.next_due_on.isoformat()},
        )
        Member.objects.filter(pk=m.pk).update(work_due_on=m.next_due_on)
        made += 1
    return made


def _close_done_work() -> int:
    done = list(
        Member.objects.filter(work_due_on__isnull=False)
        .exclude(active=True, status=rules.MemberStatus.OVERDUE)
        .only("pk", "work_due_on")[:WORK_BATCH]
    )
    return close_work(members=done, outcome="tested") if done else 0


@transaction.atomic
def keypop_recompute(*, actor: Actor, today: dt.date | None = None) -> RecomputeResult:
    """Recompute every active member's due day and status, the counters and the grid work.
    Idempotent: a second run on the same day changes nothing. Raises Conflict (no rulebook)."""
    in_force = rulebook_in_force()
    section = in_force.book.key_populations
    today = today or clock.local_date()
    now = clock.now()
    longest = max(f.interval_days for f in section.groups.values())
    tests_seen = _sync_results(today=today, lookback_days=longest + 1)
    due_changed = sum(
        _next_due_sql(group=g.value, interval=rules.interval_days(section, g)) for g in GroupKind
    )
    status_changed = _status_sql(today=today, grace_days=section.grace_days, now=now)
    employer_counts_refresh()
    work_closed = _close_done_work()
    work_created = _create_work(actor=actor) if section.grid_work else 0
    members = Member.objects.filter(active=True).count()
    overdue = Member.objects.filter(active=True, status=rules.MemberStatus.OVERDUE).count()
    result = RecomputeResult(
        day=today,
        members=members,
        tests_seen=tests_seen,
        due_changed=due_changed,
        status_changed=status_changed,
        overdue=overdue,
        work_created=work_created,
        work_closed=work_closed,
        policy_version=in_force.version,
    )
    RecomputeRun.objects.create(
        finished_at=clock.now(),
        day=today,
        members=members,
        changed=status_changed,
        overdue=overdue,
        work_created=work_created,
        work_closed=work_closed,
        policy_version=in_force.version,
    )
    record(
        actor=actor,
        action="keypop.recompute",
        target_type="key_populations.member",
        detail={
            "day": today.isoformat(),
            "tests_seen": tests_seen,
            "due_changed": due_changed,
            "status_changed": status_changed,
            "overdue": overdue,
            "work_created": work_created,
            "work_closed": work_closed,
            "policy_version": in_force.version,
        },
    )
    return result
