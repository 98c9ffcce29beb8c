"""Lab results: files (csv/xlsx through core.uploads) and API batches, matched to tubes
set-based in the database.

Every line is kept as a LabReport with its outcome: matched (the tube's result now), repeat
(the same result again), unknown_tube, conflict (another result for the tube, in this batch or
recorded before). Unknown tubes and conflicts are reported, never guessed: a conflicting
line does not change the tube. A source (the file's hash, the client's batch id) is matched
once: sending it again returns the first report and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from django.db import connection, transaction

from fangkong.audit.services import record
from fangkong.core import clock
from fangkong.core.actor import Actor, require
from fangkong.core.errors import Invalid
from fangkong.core.perms import Perm
from fangkong.core.scope import Scope
from fangkong.core.uploads import CSV, XLSX, check_upload, table_rows
from fangkong.jobs.services import enqueue_many
from fangkong.mass_testing import rules
from fangkong.mass_testing.models import LabReport
from fangkong.mass_testing.services._common import (
    POOL_HOLD_JOB,
    SINGLE_POSITIVE_JOB,
    big_statements,
    paths_sql,
)
from fangkong.mass_testing.services.coverage import count_results
from fangkong.policy.rules import deadline
from fangkong.policy.schema import Duty
from fangkong.policy.selectors import rulebook_in_force

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_LINES = 200_000
REPORT_LIST_LIMIT = 1000
# Header words a lab's file may use for each column (first row).
COLUMNS = {
    "barcode": {"barcode", "tube", "条码", "试管条码", "样本条码"},
    "result": {"result", "结果", "检测结果"},
    "ct": {"ct", "ct值", "ct_value"},
    "tested_at": {"tested_at", "time", "检测时间", "报告时间"},
}


@dataclass(frozen=True, slots=True)
class ResultIn:
    barcode: str
    result: str  # "negative" | "positive"
    tested_at: dt.datetime
    ct_value: float | None = None
    row: int | None = None


@dataclass(slots=True)
class ResultReport:
    source: str
    received: int = 0
    matched: int = 0
    repeats: int = 0
    positives: int = 0
    unknown: list[dict[str, Any]] = field(default_factory=list)
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    already_received: bool = False


def _lab_path(actor: Actor) -> str:
    return actor.scope.paths[0] if actor.scope.paths else "/"


def results_submit(
    *, actor: Actor, lab: str, batch_id: str, results: Sequence[ResultIn]
) -> ResultReport:
    """Results pushed by a lab's system, idempotent by the lab's batch id."""
    require(actor, Perm.TESTING_RESULT)
    if not rules.CLIENT_ID_RE.match(batch_id or ""):
        raise Invalid("mass_testing.batch_id", "A batch id is required", field="batch_id")
    if len(results) > MAX_LINES:
        raise Invalid("mass_testing.batch_too_big", f"At most {MAX_LINES} results per batch")
    problems = []
    for i, r in enumerate(results):
        if r.result not in ("negative", "positive"):
            problems.append({"row": i + 1, "column": "result", "reason": "negative or positive"})
        if r.tested_at.tzinfo is None or r.tested_at > clock.now() + dt.timedelta(minutes=10):
            problems.append({"row": i + 1, "column": "tested_at", "reason": "aware, not future"})
        if not rules.BARCODE_RE.match(r.barcode):
            problems.append({"row": i + 1, "column": "barcode", "reason": "not a barcode"})
    if problems:
        raise Invalid(
            "mass_testing.results_invalid", "Some results are invalid", rows=problems[:200]
        )
    return _ingest(actor, lab=lab, source=f"api:{actor.kind}:{actor.id}:{batch_id}", rows=results)


def results_upload(*, actor: Actor, lab: str, file: bytes | IO[bytes]) -> ResultReport:
    """A lab's result file (csv or xlsx: barcode, result, Ct, time). Atomic: a line that cannot
    be read refuses the whole file, naming row, column and reason. The same file twice is
    matched once. Raises Invalid (upload.* for a refused file)."""
    require(actor, Perm.TESTING_RESULT)
    kind, data = check_upload(file, max_bytes=MAX_UPLOAD_BYTES, allowed={XLSX, CSV})
    digest = hashlib.sha256(data).hexdigest()
    rows, problems = _parse(table_rows(data, kind))
    if problems:
        raise Invalid(
            "mass_testing.file_invalid",
            f"{len(problems)} problem(s) in the file; nothing was recorded",
            rows=problems[:200],
        )
    lab = " ".join((lab or "").split())[:100] or actor.label[:100]
    return _ingest(actor, lab=lab, source=f"upload:{digest[:40]}", rows=rows)


def _parse(
    table: Any,
) -> tuple[list[ResultIn], list[dict[str, Any]]]:
    rows: list[ResultIn] = []
    problems: list[dict[str, Any]] = []
    cols: dict[str, int] = {}
    now = clock.now()
    for number, cells in table:
        if not cols:
            words = [str(c or "").strip().casefold() for c in cells]
            for key, names in COLUMNS.items():
                for i, w in enumerate(words):
                    if w in names:
                        cols[key] = i
            missing = {"barcode", "result", "tested_at"} - set(cols)
            if missing:
                problems.append(
                    {"row": number, "column": ",".join(sorted(missing)), "reason": "missing column"}
                )
                return [], problems
            continue
        if not any(str(c or "").strip() for c in cells):
            continue
        if len(rows) + len(problems) >= MAX_LINES:
            problems.append({"row": number, "column": "", "reason": f"over {MAX_LINES} lines"})
            break

        def cell(key: str, cells: list[Any] = cells) -> Any:
            i = cols.get(key)
            return cells[i] if i is not None and i < len(cells) else None

        barcode = str(cell("barcode") or "").strip()
        if not rules.BARCODE_RE.match(barcode):
            problems.append({"row": number, "column": "barcode", "reason": "not a barcode"})
            continue
        result = rules.read_result(cell("result"))
        if result is None:
            problems.append({"row": number, "column": "result", "reason": "negative or positive"})
            continue
        try:
            ct = rules.read_ct(cell("ct"))
        except ValueError:
            problems.append({"row": number, "column": "ct", "reason": "a number from 0 to 50"})
            continue
        tested_at = _time(cell("tested_at"))
        if tested_at is None or tested_at > now + dt.timedelta(minutes=10):
            problems.append({"row": number, "column": "tested_at", "reason": "a past time"})
            continue
        rows.append(ResultIn(barcode, result, tested_at, ct, number))
    return rows, problems


def _time(raw: Any) -> dt.datetime | None:
    if isinstance(raw, dt.datetime):
        value = raw
    else:
        try:
            value = dt.datetime.fromisoformat(str(raw or "").strip().replace("/", "-"))
        except ValueError:
            return None
    if value.tzinfo is None:  # lab files carry local (Shanghai) time
        value = value.replace(tzinfo=clock.LOCAL_TZ)
    return value


@transaction.atomic
def _ingest(actor: Actor, *, lab: str, source: str, rows: Sequence[ResultIn]) -> ResultReport:
    if LabReport.objects.filter(source=source).exists():
        report = result_report(source=source)
        report.already_received = True
        return report
    now = clock.now()
    results_stage(rows)
    new_pools, singles = results_match(
        source=source, lab=lab[:100], path=_lab_path(actor), now=now, scope=actor.scope
    )
    report = result_report(source=source)
    record(
        actor=actor,
        action="mass_testing.results_ingest",
        target_type="mass_testing.source",
        target_id=source[:64],
        detail={
            "lab": lab[:100],
            "received": report.received,
            "matched": report.matched,
            "repeats": report.repeats,
            "unknown": len(report.unknown),
            "conflicts": len(report.conflicts),
            "positives": report.positives,
        },
    )
    enqueue_followups(new_pools, singles)
    return report


def enqueue_followups(pools: Sequence[int], singles: Sequence[int]) -> None:
    """One hold job per new positive pool and one case job per positive single tube, in the
    caller's transaction (they run once it commits)."""
    enqueue_many(
        name=POOL_HOLD_JOB,
        items=[({"pool_id": p}, f"{POOL_HOLD_JOB}:{p}") for p in pools],
    )
    enqueue_many(
        name=SINGLE_POSITIVE_JOB,
        items=[({"tube_id": t}, f"{SINGLE_POSITIVE_JOB}:{t}") for t in singles],
    )


STAGE = "mt_lab_in"
MATCHED = "mt_matched"
STAGE_COLUMNS = "seq, barcode, result, ct_value, tested_at"


def results_stage(rows: Sequence[ResultIn]) -> None:
    """The lines of one file or batch, in order, into a temporary table of this connection
    (`mt_lab_in`), from which results_match writes each line once, with its outcome."""
    pg = connection.vendor == "postgresql"
    with connection.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {STAGE}")
        cur.execute(
            f"CREATE TEMP TABLE {STAGE} (seq integer PRIMARY KEY, barcode varchar(40) NOT NULL, "
            "result varchar(8) NOT NULL, ct_value double precision, tested_at timestamp"
            f"{' with time zone' if pg else ''} NOT NULL)"
        )
        if pg:
            with cur.cursor.copy(f"COPY {STAGE} ({STAGE_COLUMNS}) FROM STDIN") as cp:
                for i, r in enumerate(rows):
                    cp.write_row((i, r.barcode, r.result, r.ct_value, r.tested_at))
        else:
            at = connection.ops.adapt_datetimefield_value
            cur.executemany(
                f"INSERT INTO {STAGE} ({STAGE_COLUMNS}) VALUES (%s, %s, %s, %s, %s)",  # noqa: S608
                [(i, r.barcode, r.result, r.ct_value, at(r.tested_at)) for i, r in enumerate(rows)],
            )


def results_match(
    *, source: str, lab: str, path: str, now: dt.datetime, scope: Scope
) -> tuple[list[int], list[int]]:
    """Write the staged lines (results_stage) as `source`, each once with its outcome and
    tube; record the tubes' results; count them in the coverage; open the positive pools
    (with a pending retest per member). Returns (new pool ids, positive single-tube ids).
    Runs in the caller's transaction. A tube outside `scope` is matched like a missing one
    (unknown_tube): "not yours" looks exactly like "missing"; such lines keep `path` (the
    lab's node)."""
    scope_params: list[Any] = []
    tube_scope = (
        "1=1"
        if "/" in scope.paths
        else paths_sql("t.jurisdiction_path", list(scope.paths), scope_params)
    )
    in_force = rulebook_in_force(at=now)
    due = deadline(in_force.book, Duty.RETEST_POSITIVE_POOL, from_=now)
    ops = connection.ops
    at, due_at = ops.adapt_datetimefield_value(now), ops.adapt_datetimefield_value(due)
    # One pass decides every line's outcome: unknown tube; two different results for one tube
    # in this batch (neither believed); a result already recorded (the same: repeat, another:
    # conflict); else the tube's first line matches and later ones repeat it.
    lines = (
        "INSERT INTO mass_testing_labreport (barcode, tube_id, jurisdiction_path, result, "  # noqa: S608
        "ct_value, tested_at, lab, source, outcome, received_at) "
        "SELECT l.barcode, t.id, COALESCE(t.jurisdiction_path, %s), l.result, l.ct_value, "
        "l.tested_at, %s, %s, CASE "
        "WHEN t.id IS NULL THEN 'unknown_tube' "
        "WHEN MIN(l.result) OVER w <> MAX(l.result) OVER w THEN 'conflict' "
        "WHEN t.result <> 'pending' THEN CASE WHEN t.result = l.result THEN 'repeat' ELSE 'conflict' END "
        "WHEN ROW_NUMBER() OVER (PARTITION BY t.id ORDER BY l.seq) = 1 THEN 'matched' "
        "ELSE 'repeat' END, %s "
        f"FROM {STAGE} l LEFT JOIN mass_testing_tube t "
        f"ON t.barcode = l.barcode AND {tube_scope} "
        "WINDOW w AS (PARTITION BY t.id) ORDER BY l.seq"
    )
    # The tubes that take a result now, with what the next steps read (MATCHED): on
    # PostgreSQL returned by the lines' insert and the tubes' update in one statement, on
    # SQLite read back once.
    returning = (
        "t.id, t.round_id, t.member_grid, t.grids_mixed, t.members, t.result, t.jurisdiction_path"
    )
    set_result = (
        "result = lr.result, ct_value = lr.ct_value, result_at = lr.tested_at, lab = lr.lab, "
        "status = 'closed', closed_at = COALESCE(t.closed_at, lr.received_at)"
    )
    with connection.cursor() as cur:
        big_statements(cur)
        cur.execute(f"DROP TABLE IF EXISTS {MATCHED}")
        if connection.vendor == "postgresql":
            cur.execute(
                f"CREATE TEMP TABLE {MATCHED} AS WITH lr AS ({lines} RETURNING tube_id, "  # noqa: S608
                "result, ct_value, tested_at, lab, received_at, outcome), "
                f"u AS (UPDATE mass_testing_tube AS t SET {set_result} FROM lr "
                f"WHERE lr.outcome = 'matched' AND t.id = lr.tube_id RETURNING {returning}) "
                "SELECT * FROM u",
                [path, lab, source, at, *scope_params],
            )
        else:
            cur.execute(lines, [path, lab, source, at, *scope_params])
            cur.execute(
                f"UPDATE mass_testing_tube AS t SET {set_result} "  # noqa: S608
                "FROM mass_testing_labreport lr WHERE lr.tube_id = t.id AND lr.source = %s "
                "AND lr.outcome = 'matched'",
                [source],
            )
            cur.execute(
                f"CREATE TEMP TABLE {MATCHED} AS SELECT {returning} "  # noqa: S608
                "FROM mass_testing_labreport lr JOIN mass_testing_tube t ON t.id = lr.tube_id "
                "WHERE lr.source = %s AND lr.outcome = 'matched'",
                [source],
            )
        cur.execute(f"DROP TABLE {STAGE}")
        if connection.vendor == "postgresql":
            cur.execute(f"ANALYZE {MATCHED}")  # a temporary table has no statistics otherwise
        cur.execute(
            "INSERT INTO mass_testing_positivepool (tube_id, round_id, jurisdiction_path, "  # noqa: S608
            "members, detected_at, retest_due_at, status, positives) "
            "SELECT id, round_id, jurisdiction_path, members, %s, %s, 'open', 0 "
            f"FROM {MATCHED} WHERE result = 'positive' AND members > 1 ORDER BY id",
            [at, due_at],
        )
        cur.execute(
            "INSERT INTO mass_testing_retest (pool_id, person_id, jurisdiction_path, result) "  # noqa: S608
            "SELECT p.id, s.person_id, s.jurisdiction_path, 'pending' "
            f"FROM {MATCHED} m JOIN mass_testing_positivepool p ON p.tube_id = m.id "
            "JOIN mass_testing_sample s ON s.tube_id = m.id "
            "WHERE m.result = 'positive' AND m.members > 1 ORDER BY p.id, s.person_id"
        )
        count_results(cur, MATCHED, source)
        cur.execute(
            "SELECT p.id FROM mass_testing_positivepool p "  # noqa: S608
            f"JOIN {MATCHED} m ON m.id = p.tube_id ORDER BY p.id"
        )
        pools = [int(r[0]) for r in cur.fetchall()]
        cur.execute(
            f"SELECT id FROM {MATCHED} WHERE result = 'positive' AND members <= 1 ORDER BY id"  # noqa: S608
        )
        singles = [int(r[0]) for r in cur.fetchall()]
        cur.execute(f"DROP TABLE {MATCHED}")
    return pools, singles


def result_report(*, source: str) -> ResultReport:
    """The report of one source, from its stored lines."""
    report = ResultReport(source=source)
    counts: dict[str, int] = {}
    with connection.cursor() as cur:
        cur.execute(
            "SELECT outcome, COUNT(*), SUM(CASE WHEN result = 'positive' THEN 1 ELSE 0 END) "
            "FROM mass_testing_labreport WHERE source = %s GROUP BY outcome",
            [source],
        )
        for outcome, n, pos in cur.fetchall():
            counts[outcome] = int(n)
            if outcome == "matched":
                report.positives = int(pos or 0)
    report.received = sum(counts.values())
    report.matched = counts.get("matched", 0)
    report.repeats = counts.get("repeat", 0)
    odd = (
        LabReport.objects.filter(source=source, outcome__in=["unknown_tube", "conflict"])
        .select_related("tube")
        .order_by("pk")[:REPORT_LIST_LIMIT]
    )
    for line in odd:
        item = {"barcode": line.barcode, "result": line.result, "tested_at": line.tested_at}
        if line.outcome == "unknown_tube":
            report.unknown.append(item)
        else:
            item["recorded"] = line.tube.result if line.tube else ""
            report.conflicts.append(item)
    return report
