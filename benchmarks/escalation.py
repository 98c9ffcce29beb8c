"""The escalation pass over 1,000,000 active assignments, about 60 % of them overdue.

Same private tree as assignments_board.py (20,000 grids, a post at every node), then
1,000,000 active assignments due between 40 hours ago and 24 hours ahead of a fixed "now",
inserted set-based; tally rebuilt; ANALYZE. Then, timed, each in its own transaction:

1. the first pass at "now": every overdue item climbs to its level (up to the city);
2. the same pass again: must move nothing (idempotent);
3. a pass one hour later: items that fell due or crossed an interval boundary since.

    .venv/bin/python benchmarks/escalation.py --data-dir /tmp/fk-asg-bench \
        [--database-url postgres://root@127.0.0.1:5432/fk_asg_bench] [--rows 1000000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Target, load, machine
from assignments_board import NOW, _setup_django, build_tree, insert_assignments


def _timed_pass(at: dt.datetime) -> tuple[float, Any, dict[str, list[float]]]:
    """One pass at `at`, timed, with the time spent per kind of statement."""
    from django.db import connection

    from fangkong.assignments.escalation import escalate_pass
    from fangkong.core import clock

    steps: dict[str, list[float]] = defaultdict(lambda: [0.0, 0])

    def timed(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.monotonic()
        try:
            return execute(sql, params, many, context)
        finally:
            step = steps[" ".join(sql.replace('"', "").split()[:3])[:60]]
            step[0] += time.monotonic() - started
            step[1] += 1

    with clock.frozen(at), connection.execute_wrapper(timed):
        started = time.monotonic()
        result = escalate_pass(now=at)
        elapsed = time.monotonic() - started
    return elapsed, result, steps


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/fk-asg-bench"))  # noqa: S108
    parser.add_argument("--database-url", default="")
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    target = Target(args.data_dir, args.database_url)
    print(f"# escalation pass, {target.label}")
    print(f"machine: {machine()}")
    target.recreate()
    _setup_django(target)

    from django.core.management import call_command
    from django.db import connection, transaction
    from django.db.models import Count

    from fangkong.assignments import tally
    from fangkong.assignments.models import Assignment, AssignmentTally
    from fangkong.core.actor import system_actor
    from fangkong.notifications.models import Notification
    from fangkong.policy.editions import edition_text
    from fangkong.policy.services import rulebook_publish

    call_command("migrate", verbosity=0)
    figures: dict[str, object] = {}
    started = time.monotonic()
    with transaction.atomic():
        figures["nodes"] = build_tree()
        rulebook_publish(
            actor=system_actor("benchmark"),
            text=edition_text("ninth-edition-2022"),
            note="benchmark",
            effective_from=NOW - dt.timedelta(days=30),
        )
        figures["assignments"] = insert_assignments(
            rows=args.rows, open_pct=100, due_spread_hours=(-40, 24)
        )
        tally.rebuild()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    figures["setup_s"] = round(time.monotonic() - started, 1)
    figures["overdue_at_now"] = Assignment.objects.filter(due_at__lt=NOW).count()
    print("setup: " + json.dumps(figures))
    print(f"load before the passes: {load()}")

    for label, at in (
        ("first pass", NOW),
        ("same pass again", NOW),
        ("one hour later", NOW + dt.timedelta(hours=1)),
    ):
        elapsed, result, steps = _timed_pass(at)
        print(
            f"{label:16} {elapsed:7.2f} s   moved {result.moved:>8,}   newly overdue "
            f"{result.newly_overdue:>8,}   holders notified {result.holders:>6,}"
        )
        for step, (seconds, count) in sorted(steps.items(), key=lambda kv: -kv[1][0])[:6]:
            print(f"    {seconds:7.2f} s  {count:>6} x  {step}")
    levels = dict(
        Assignment.objects.order_by()
        .values_list("escalation_level")
        .annotate(n=Count("id"))
        .values_list("escalation_level", "n")
    )
    city = sum(AssignmentTally.objects.filter(node_path="/4409/").values_list("overdue", flat=True))
    print(f"items by escalation level: {json.dumps(dict(sorted(levels.items())))}")
    print(f"city tally overdue {city:,}; notifications {Notification.objects.count():,}")
    print(f"load after: {load()}")


if __name__ == "__main__":
    main()
