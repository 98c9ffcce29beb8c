"""Board figures against a hand-counted set: active, due soon, overdue (escalated or not yet),
done today (the city's day), by kind and by child node; and the overdue list."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from conftest import Tree, actor_of
from fangkong.accounts.models import User
from fangkong.assignments import selectors, services
from fangkong.assignments.escalation import escalate_overdue
from fangkong.assignments.models import Assignment
from fangkong.assignments.tests.factories import T0, assignment
from fangkong.core import clock
from fangkong.core.actor import Actor
from fangkong.core.errors import NotFound
from fangkong.jurisdictions.models import Level
from fangkong.policy.models import RulebookVersion

pytestmark = pytest.mark.django_db
H = dt.timedelta(hours=1)


def test_board_counts(
    two_districts: Tree, system: Actor, rulebook: RulebookVersion, personas: dict[str, User]
) -> None:
    t = two_districts
    with clock.frozen(T0 - 20 * H):  # the day before, in the city
        done_yesterday = assignment(system, t.grid_a, kind="scheduled_test")
        services.assignment_complete(actor=system, assignment=done_yesterday, outcome="ok")
    with clock.frozen(T0):
        escalated = assignment(system, t.grid_a, kind="scheduled_test", due_at=T0 - 2 * H)
        escalate_overdue()
        late = assignment(system, t.grid_a2, kind="scheduled_test", due_at=T0 - H)  # not yet moved
        soon = assignment(system, t.grid_a, kind="contact_list", due_at=T0 + 2 * H)
        later = assignment(system, t.grid_a, kind="contact_list", due_at=T0 + 30 * H)
        at_town = assignment(system, t.town_a, kind="contact_list", due_at=T0 + H)
        started = assignment(system, t.grid_a2, kind="contact_list", due_at=T0 + 10 * H)
        services.assignment_start(actor=system, assignment=started)
        done_today = assignment(system, t.grid_a, kind="scheduled_test")
        services.assignment_complete(actor=system, assignment=done_today, outcome="ok")
        assignment(system, t.grid_b, kind="scheduled_test", due_at=T0 - H)  # other district
        scope = actor_of(personas["district_officer"]).scope
        board = selectors.board(scope=scope, node=t.district_a)
        town = selectors.board(scope=scope, node=t.town_a)
        group = selectors.board(scope=scope, node=t.group_a)
        grid = selectors.board(scope=scope, node=t.grid_a)

    total = board.total
    assert (total.active, total.open, total.in_progress) == (6, 5, 1)
    assert (total.overdue, total.due_soon, total.done_today) == (2, 2, 1)
    kinds = {r.kind: r.counts for r in board.by_kind}
    assert (kinds["scheduled_test"].active, kinds["scheduled_test"].overdue) == (2, 2)
    assert kinds["scheduled_test"].done_today == 1
    assert (kinds["contact_list"].active, kinds["contact_list"].due_soon) == (4, 2)
    assert [r.node.code if r.node else None for r in board.by_child] == [t.town_a.code]
    assert board.by_child[0].counts.active == 6

    # at the town: one item is held at the town itself, the rest under its village
    assert [(r.node.code if r.node else None, r.counts.active) for r in town.by_child] == [
        (None, 1),
        (t.village_a.code, 5),
    ]
    children = {r.node.code: r.counts for r in group.by_child if r.node}
    assert (children[t.grid_a.code].active, children[t.grid_a.code].overdue) == (3, 1)
    assert (children[t.grid_a2.code].active, children[t.grid_a2.code].overdue) == (2, 1)
    assert children[t.grid_a2.code].in_progress == 1
    assert children[t.grid_a.code].done_today == 1
    assert (grid.total.active, grid.total.overdue, grid.by_child) == (3, 1, [])
    assert {escalated.pk, late.pk, soon.pk, later.pk, at_town.pk}  # all created

    with clock.frozen(T0):
        overdue = selectors.overdue_list(scope=scope, node=t.district_a)
    assert [i.pk for i in overdue.items] == [escalated.pk, late.pk]


def test_board_outside_scope_is_not_found(two_districts: Tree, personas: dict[str, User]) -> None:
    scope = actor_of(personas["sibling_district_officer"]).scope
    with pytest.raises(NotFound):
        selectors.board(scope=scope, node=two_districts.district_a)
    with pytest.raises(NotFound):
        selectors.overdue_list(scope=scope, node=two_districts.grid_a)


def test_escalated_work_is_visible_to_the_ancestor_and_not_beyond(
    two_districts: Tree, system: Actor, rulebook: RulebookVersion, personas: dict[str, User]
) -> None:
    with clock.frozen(T0):
        item = assignment(system, two_districts.grid_a, due_at=T0 - 13 * H)  # level 4
        escalate_overdue()
    item.refresh_from_db()
    assert item.escalated_to_id == two_districts.district_a.pk
    officer = actor_of(personas["district_officer"]).scope
    assert selectors.assignment_get(scope=officer, assignment_id=item.pk).pk == item.pk
    desk = selectors.inbox(scope=officer, user_id=personas["district_officer"].pk)
    assert desk.items == []  # no post held
    with pytest.raises(NotFound):
        selectors.assignment_get(
            scope=actor_of(personas["sibling_district_officer"]).scope, assignment_id=item.pk
        )


def _brute(node_path: str, now: dt.datetime, key: Callable[[Assignment], str]) -> dict[str, Any]:
    """The board's figures counted row by row, grouped by `key`."""
    out: dict[str, Counter[str]] = {}
    today = clock.to_local(now).date()
    for item in Assignment.objects.filter(jurisdiction_path__startswith=node_path):
        c = out.setdefault(key(item), Counter())
        if item.closed_at is None:
            c["active"] += 1
            c["in_progress"] += item.status == "in_progress"
            c["overdue"] += item.escalation_level > 0 or item.due_at < now
            c["due_soon"] += item.escalation_level == 0 and now <= item.due_at < now + 6 * H
        elif item.status == "done" and clock.to_local(item.closed_at).date() == today:
            c["done_today"] += 1
    return {k: {f: n for f, n in v.items() if n} for k, v in out.items() if +v}


def _figures(counts: selectors.Counts) -> dict[str, int]:
    names = ("active", "in_progress", "overdue", "due_soon", "done_today")
    return {f: getattr(counts, f) for f in names if getattr(counts, f)}


def test_board_figures_equal_brute_force_counts_after_mixed_writes(
    two_districts: Tree, system: Actor, rulebook: RulebookVersion, personas: dict[str, User]
) -> None:
    t = two_districts
    nodes = [t.grid_a, t.grid_a2, t.group_a, t.village_a, t.town_a, t.district_a, t.grid_b]
    kinds = ["scheduled_test", "contact_list", "isolate_close_contact"]
    items = []
    with clock.frozen(T0 - 30 * H):
        for i in range(42):
            due = T0 + (i % 14 - 7) * 3 * H
            items.append(assignment(system, nodes[i % 7], kind=kinds[i % 3], due_at=due))
    with clock.frozen(T0 - 10 * H):  # the day before, in the city
        escalate_overdue()
        for item in items[0:6]:
            services.assignment_complete(actor=system, assignment=item, outcome="ok")
    with clock.frozen(T0 - H):
        escalate_overdue()
        for item in items[6:10]:
            services.assignment_start(actor=system, assignment=item)
        services.assignment_complete(actor=system, assignment=items[6], outcome="ok")
        for item in items[10:13]:
            services.assignment_complete(actor=system, assignment=item, outcome="ok")
        services.assignment_reject(actor=system, assignment=items[13], reason="duplicate")
        for item, to in ((items[14], t.grid_b), (items[15], t.town_a), (items[7], t.grid_a2)):
            services.assignment_reassign(actor=system, assignment=item, to=to, reason="moved")
        services.assignments_close_for_subject(
            actor=system, subject_type="person", subject_id=items[16].subject_id, outcome="met"
        )
    now = T0 + H
    with clock.frozen(now):
        escalate_overdue()
        services.assignment_complete(actor=system, assignment=items[17], outcome="ok")
        assignment(system, t.grid_a, kind="contact_list", due_at=now - H / 2)  # not yet moved
        scope = actor_of(personas["city_commander"]).scope
        for node in (t.city, t.district_a, t.town_a, t.group_a, t.grid_a):
            board = selectors.board(scope=scope, node=node)
            whole = _brute(node.path, now, lambda i: "")
            assert _figures(board.total) == whole.get("", {}), node.code
            if node == t.city:  # every figure is exercised
                assert len(_figures(board.total)) == 5, board.total
            by_kind = _brute(node.path, now, lambda i: i.kind)
            assert {r.kind: _figures(r.counts) for r in board.by_kind} == by_kind, node.code
            if node.level == Level.GRID:
                continue
            length = len(node.path) + len(t.grid_a.code) + 1  # long enough for any child code
            by_child = _brute(node.path, now, _child_key(node.path, length))
            shown = {
                (r.node.path if r.node else node.path): _figures(r.counts) for r in board.by_child
            }
            assert {k: v for k, v in shown.items() if v} == by_child, node.code


def _child_key(root: str, _length: int) -> Callable[[Assignment], str]:
    def key(item: Assignment) -> str:
        rest = item.jurisdiction_path[len(root) :]
        return root + rest.split("/", 1)[0] + "/" if rest else root

    return key
