"""The assignments board of the city node and of one district node over 1,000,000 assignments.

Builds a private database: a synthetic six-level tree (10 districts x 10 towns x 10 villages
x 4 groups x 5 grids = 20,000 grids, a primary post at every node), then 1,000,000
assignments inserted set-based (one INSERT ... SELECT over grids x a number series), about
15 % of them active and the rest closed over the past days, and 100,000 persons under an
active control order (with scheduled tests), inserted in bulk; then the per-node tally is
rebuilt, ANALYZE runs, and one escalation pass marks the overdue work (the steady state the
5-minute job keeps). `fangkong simulate` is not used: this script owns its data.

Each measuring run is a fresh process that signs in through the real session and token paths
and requests, through Django's test client (in-process, no network), the board page
/assignments/board/<code>/ and the API /api/assignments/board/<code> for the city and one
district: the first (cold) request, then the median of 10 warm ones, with the query count.
Figures are medians over runs.

    .venv/bin/python benchmarks/assignments_board.py --data-dir /tmp/fk-asg-bench \
        [--database-url postgres://root@127.0.0.1:5432/fk_asg_bench] [--rows 1000000] [--runs 5]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Target, load, machine, timed_child

KINDS = (
    "verify_pushed_arrival",
    "land_assist_request",
    "isolate_close_contact",
    "isolate_secondary_contact",
    "contact_list",
    "retest_positive_pool",
    "follow_up_drug_buyer",
    "verify_sentinel_alert",
    "fix_inspection_finding",
    "scheduled_test",
)
FANOUT = (10, 10, 10, 4, 5)  # children per district, town, village, group, grid level
NOW = dt.datetime(2022, 1, 25, 4, 0, tzinfo=dt.UTC)  # 12:00 in the city, a fixed "now"


def _setup_django(target: Target | None = None) -> None:
    if target is not None:
        os.environ.update(target.env())
    import django

    django.setup()


def build_tree() -> int:
    """The tree and its posts, level by level with bulk inserts. Returns the number of nodes."""
    from fangkong.assignments import rules
    from fangkong.jurisdictions.models import Jurisdiction, Post

    city = Jurisdiction.objects.create(code="4409", name="City", level=1, path="/4409/")
    level_nodes = [city]
    total = 1
    digits = {2: 2, 3: 3, 4: 3, 5: 3, 6: 3}
    for level, fan in zip(range(2, 7), FANOUT, strict=True):
        rows = []
        for parent in level_nodes:
            for i in range(1, fan + 1):
                code = f"{parent.code}{i:0{digits[level]}d}"
                rows.append(
                    Jurisdiction(
                        code=code,
                        name=f"Unit {code}",
                        level=level,
                        parent_id=parent.pk,
                        path=f"{parent.path}{code}/",
                    )
                )
        Jurisdiction.objects.bulk_create(rows, batch_size=5000)
        level_nodes = list(Jurisdiction.objects.filter(level=level).only("id", "code", "path"))
        total += len(level_nodes)
    nodes = Jurisdiction.objects.only("id", "level", "path")
    Post.objects.bulk_create(
        [
            Post(
                jurisdiction_id=n.pk,
                jurisdiction_path=n.path,
                kind=rules.RESPONSIBLE_POST[n.level],
                holder_name="Holder",
                phone="13800138000",
            )
            for n in nodes.iterator()
        ],
        batch_size=5000,
    )
    return total


def _ts(vendor: str, seconds_sql: str) -> str:
    """SQL for NOW + <seconds_sql> seconds, stored the way Django stores datetimes."""
    base = NOW.strftime("%Y-%m-%d %H:%M:%S")
    if vendor == "sqlite":
        return f"strftime('%Y-%m-%d %H:%M:%S', '{base}', ({seconds_sql}) || ' seconds')"
    return f"(TIMESTAMPTZ '{base}+00' + ({seconds_sql}) * INTERVAL '1 second')"


def insert_assignments(*, rows: int, open_pct: int, due_spread_hours: tuple[int, int]) -> int:
    """`rows` assignments over the grids, set-based. `open_pct` % are active, due between
    NOW + spread[0] and NOW + spread[1] hours; the rest closed in the 72 hours before NOW."""
    from django.db import connection

    from fangkong.assignments.models import Assignment
    from fangkong.jurisdictions.models import Jurisdiction

    vendor = connection.vendor
    grids = Jurisdiction.objects.filter(level=6).count()
    per_grid = -(-rows // grids)
    a = Assignment._meta.db_table
    j = Jurisdiction._meta.db_table
    lo, hi = due_spread_hours
    span = (hi - lo) * 3600
    h = "((g.id * 7919 + n.i * 104729) % 1000003)"
    kind = "CASE " + " ".join(
        f"WHEN {h} % {len(KINDS)} = {k} THEN '{v}'" for k, v in enumerate(KINDS)
    )
    kind += " END"
    active = f"(({h} / 7) % 100 < {open_pct})"
    due_active = _ts(vendor, f"{lo * 3600} + ({h} * 31) % {span}")
    closed_at = _ts(vendor, f"-(({h} * 13) % 259200)")
    due_closed = _ts(vendor, f"-(({h} * 13) % 259200) + 7200")
    created = _ts(vendor, "-345600")
    empty_json = "'{}'::jsonb" if vendor == "postgresql" else "'{}'"
    sql = f"""
        WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {per_grid - 1})
        INSERT INTO {a} (kind, title, subject_type, subject_id, jurisdiction_id, jurisdiction_path,
            jurisdiction_level, status, due_at, escalation_level, escalated_path, outcome, reason,
            created_at, updated_at, closed_at, detail)
        SELECT {kind}, 'Benchmark work', 'person', CAST(g.id * 100 + n.i AS VARCHAR(64)),
            g.id, g.path, 6,
            CASE WHEN {active} THEN (CASE WHEN {h} % 5 = 0 THEN 'in_progress' ELSE 'open' END)
                 ELSE (CASE WHEN {h} % 20 = 0 THEN 'rejected' ELSE 'done' END) END,
            CASE WHEN {active} THEN {due_active} ELSE {due_closed} END,
            0, '', CASE WHEN {active} THEN '' ELSE 'done' END, '',
            {created}, {created},
            CASE WHEN {active} THEN NULL ELSE {closed_at} END,
            {empty_json}
        FROM {j} g CROSS JOIN n WHERE g.level = 6
    """  # noqa: S608 - generated from constants
    with connection.cursor() as cursor:
        cursor.execute(sql)
    return Assignment.objects.count()


def insert_control_orders(count: int) -> dict[str, int]:
    """`count` persons over the grids, each under an active control order (in effect, with its
    scheduled tests), inserted in bulk at NOW: the issue's "100,000 active control orders".
    The board does not read these tables; they are here so that the figures are taken with
    them in the database (and in the cache)."""
    from django.db import transaction

    from fangkong.control import rules as control_rules
    from fangkong.control.models import ControlOrder, ScheduledTest
    from fangkong.core import clock
    from fangkong.jurisdictions.models import Jurisdiction
    from fangkong.people.models import Person
    from fangkong.policy.rules import plan_for
    from fangkong.policy.schema import Category
    from fangkong.policy.selectors import rulebook_in_force

    grids = list(Jurisdiction.objects.filter(level=6).order_by("pk").values_list("pk", "path"))
    categories = [
        Category.CLOSE_CONTACT,
        Category.SECONDARY_CONTACT,
        Category.COPRESENCE_CONTACT,
        Category.ARRIVAL_MEDIUM_RISK,
    ]
    tests = 0
    with clock.frozen(NOW):
        in_force = rulebook_in_force()
        today = clock.local_date()
        plans = {
            (c, back): plan_for(in_force.book, c, anchor=today - dt.timedelta(days=back))
            for c in categories
            for back in range(3)
        }
        for start in range(0, count, 5000):
            batch = range(start, min(count, start + 5000))
            with transaction.atomic():
                persons = Person.objects.bulk_create(
                    [
                        Person(
                            doc_type="resident_id",
                            doc_number=f"BENCH{i:012d}",
                            doc_bidx=f"bench-doc-{i}",
                            name="Benchmark person",
                            name_bidx="bench-name",
                            grid_id=grids[i % len(grids)][0],
                            jurisdiction_path=grids[i % len(grids)][1],
                            created_at=NOW,
                            updated_at=NOW,
                        )
                        for i in batch
                    ]
                )
                orders = []
                for i, person in zip(batch, persons, strict=True):
                    category = categories[i % len(categories)]
                    plan = plans[(category, i % 3)]
                    orders.append(
                        ControlOrder(
                            person_id=person.pk,
                            jurisdiction_path=person.jurisdiction_path,
                            category=category.value,
                            measure=plan.measure.value,
                            phases=control_rules.phases_to_json(plan),
                            basis_type="contact",
                            basis_id=f"bench-{i}",
                            policy_version=in_force.version,
                            edition=plan.edition,
                            anchor_date=today - dt.timedelta(days=i % 3),
                            start_date=plan.phases[0].first_day,
                            release_on=plan.release_on,
                            place_kind=control_rules.place_kind(plan.measure),
                            status="in_effect",
                            reason="benchmark",
                            created_by="benchmark",
                            created_at=NOW,
                            updated_at=NOW,
                        )
                    )
                ControlOrder.objects.bulk_create(orders)
                scheduled = [
                    ScheduledTest(order=o, jurisdiction_path=o.jurisdiction_path, due_on=d)
                    for o in orders
                    for d in sorted(
                        {d for p in control_rules.phases_from_json(o.phases) for d in p.test_dates}
                    )
                ]
                ScheduledTest.objects.bulk_create(scheduled, batch_size=5000)
                tests += len(scheduled)
    return {
        "control_orders": ControlOrder.objects.filter(status="in_effect").count(),
        "tests": tests,
    }


def setup(
    target: Target, *, rows: int, open_pct: int, spread: tuple[int, int], orders: int
) -> dict[str, Any]:
    """Fresh database, tree, assignments, tally, statistics, one escalation pass; timed."""
    target.recreate()
    _setup_django(target)
    from django.core.management import call_command
    from django.db import connection, transaction

    from fangkong.assignments import tally
    from fangkong.assignments.escalation import escalate_pass
    from fangkong.core import clock
    from fangkong.core.actor import system_actor
    from fangkong.policy.editions import edition_text
    from fangkong.policy.services import rulebook_publish

    call_command("migrate", verbosity=0)
    figures: dict[str, Any] = {}
    started = time.monotonic()
    with transaction.atomic():
        figures["nodes"] = build_tree()
        rulebook_publish(
            actor=system_actor("benchmark"),
            text=edition_text("ninth-edition-2022"),
            note="benchmark",
            effective_from=NOW - dt.timedelta(days=30),
        )
    figures["tree_s"] = round(time.monotonic() - started, 1)
    started = time.monotonic()
    with transaction.atomic():
        figures["assignments"] = insert_assignments(
            rows=rows, open_pct=open_pct, due_spread_hours=spread
        )
    figures["insert_s"] = round(time.monotonic() - started, 1)
    started = time.monotonic()
    figures.update(insert_control_orders(orders))
    figures["control_orders_s"] = round(time.monotonic() - started, 1)
    started = time.monotonic()
    with transaction.atomic():
        rebuilt = tally.rebuild()
    figures["tally_rows"] = rebuilt.active_rows
    figures["day_tally_rows"] = rebuilt.day_rows
    figures["tally_rebuild_s"] = round(time.monotonic() - started, 1)
    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    figures["analyze_s"] = round(time.monotonic() - started, 1)
    with clock.frozen(NOW):
        started = time.monotonic()
        result = escalate_pass(now=NOW)
        figures["escalation_first_pass_s"] = round(time.monotonic() - started, 1)
        figures["escalation_first_pass_moved"] = result.moved
        figures["escalation_first_pass_holders"] = result.holders
        started = time.monotonic()
        figures["escalation_second_pass_moved"] = escalate_pass(now=NOW).moved
        figures["escalation_second_pass_s"] = round(time.monotonic() - started, 2)
    return figures


def child(codes: list[str], warm: int) -> dict[str, Any]:
    """One measuring run: page and API for each node, cold then warm, with query counts."""
    _setup_django()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from fangkong.accounts import middleware
    from fangkong.accounts.middleware import SESSION_SCOPE_VERSION
    from fangkong.accounts.models import ApiToken, User
    from fangkong.accounts.scoping import hash_token, new_token_secret
    from fangkong.core import clock
    from fangkong.jurisdictions.models import Jurisdiction

    settings.ALLOWED_HOSTS = ["testserver"]
    # No collectstatic in a private data directory: plain static URLs instead of the manifest.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    city = Jurisdiction.objects.get(code="4409")
    user, _ = User.objects.get_or_create(
        username="bench_commander", defaults={"role": "command_office"}
    )
    user.jurisdictions.set([city])
    prefix, secret = new_token_secret()
    token = ApiToken.objects.create(
        name="bench",
        prefix=prefix,
        token_hash=hash_token(secret),
        role="command_office",
        created_at=clock.now(),
    )
    token.jurisdictions.set([city])
    page_client = Client()
    page_client.force_login(user)
    session = page_client.session
    session[SESSION_SCOPE_VERSION] = user.scope_version
    # A session that passed the second factor, where the accounts app asks for one.
    totp_key = getattr(middleware, "SESSION_TOTP_VERIFIED", None)
    if totp_key is not None:
        session[totp_key] = True
    session.save()
    api_client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")

    out: dict[str, Any] = {}
    with clock.frozen(NOW):
        for code in codes:
            for label, client, url in (
                ("page", page_client, f"/assignments/board/{code}/"),
                ("api", api_client, f"/api/assignments/board/{code}"),
            ):
                times = []
                queries = 0
                for _ in range(warm + 1):
                    with CaptureQueriesContext(connection) as ctx:
                        started = time.perf_counter()
                        response = client.get(url)
                        times.append((time.perf_counter() - started) * 1000)
                    assert response.status_code == 200, (url, response.status_code)
                    queries = len(ctx.captured_queries)
                out[f"{code}:{label}"] = {
                    "cold_ms": times[0],
                    "warm_ms": statistics.median(times[1:]),
                    "queries": queries,
                }
                if label == "api":
                    out[f"{code}:total"] = response.json()["total"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/fk-asg-bench"))  # noqa: S108
    parser.add_argument("--database-url", default="")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--open-pct", type=int, default=15)
    parser.add_argument("--orders", type=int, default=100_000, help="active control orders")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--warm", type=int, default=10)
    parser.add_argument("--skip-setup", action="store_true")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    codes = ["4409", "440901"]
    if args.child:
        print(json.dumps(child(codes, args.warm)))
        return
    target = Target(args.data_dir, args.database_url)
    print(f"# assignments board, {target.label}")
    print(f"machine: {machine()}")
    if not args.skip_setup:
        figures = setup(
            target, rows=args.rows, open_pct=args.open_pct, spread=(-36, 60), orders=args.orders
        )
        print("setup: " + json.dumps(figures))
    runs = []
    for _ in range(args.runs):
        argv = [sys.executable, os.path.abspath(__file__), "--child", "--warm", str(args.warm)]
        _, _, out = timed_child(argv, target.env())
        runs.append(json.loads(out.strip().splitlines()[-1]))
    print(
        f"runs: {args.runs} fresh processes x (1 cold + {args.warm} warm requests); load {load()}"
    )
    for code in codes:
        print(f"node {code}: totals {json.dumps(runs[0][f'{code}:total'])}")
        for label in ("page", "api"):
            key = f"{code}:{label}"
            cold = statistics.median(r[key]["cold_ms"] for r in runs)
            warm = statistics.median(r[key]["warm_ms"] for r in runs)
            queries = max(r[key]["queries"] for r in runs)
            print(f"  {label:4}  cold {cold:7.1f} ms   warm {warm:7.1f} ms   queries {queries}")


if __name__ == "__main__":
    main()
