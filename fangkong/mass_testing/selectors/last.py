"""A person's latest nucleic-acid test, from mass testing and from control orders' tests: the
cross-module read (decision 0010) behind sentinel's 48 h rule and key populations' due dates."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection

from fangkong.core.scope import Scope, prefix_upper_bound

RESULTS = ("negative", "positive", "pending")


@dataclass(frozen=True, slots=True)
class PersonResult:
    """A person's latest nucleic-acid test, from mass testing and from control orders' tests."""

    person_id: int
    last_sampled_at: dt.datetime
    last_result: str  # "negative" | "positive" | "pending" (of the latest sample)
    last_negative_at: dt.datetime | None  # when the latest negative sample was taken
    last_result_at: dt.datetime | None  # when the latest sample's result came back


def scope_sql(column: str, scope: Scope, params: list[Any]) -> str:
    """The scope as a SQL condition on a path column (the same test as core.scope.within)."""
    if "/" in scope.paths:
        return "1=1"
    if not scope.paths:
        return "1=0"
    parts = []
    for root in scope.paths:
        if connection.vendor == "sqlite":
            parts.append(f"({column} >= %s AND {column} < %s)")
            params += [root, prefix_upper_bound(root)]
        else:
            parts.append(f"{column} LIKE %s")
            params.append(root + "%")  # paths hold digits and "/" only: nothing to escape
    return "(" + " OR ".join(parts) + ")"


def _ids_sql(person_ids: Sequence[int], params: list[Any]) -> str:
    """The ids as one parameter (an array or a JSON list), whatever their number."""
    ids = sorted({int(p) for p in person_ids})
    if connection.vendor == "postgresql":
        params.append(ids)
        return "SELECT unnest(%s::bigint[]) AS pid"
    params.append(json.dumps(ids))
    return "SELECT CAST(value AS INTEGER) AS pid FROM json_each(%s)"


def _aware(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, str):  # SQLite hands back text from a UNION
        value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    assert isinstance(value, dt.datetime)
    return value


def last_results(
    *, scope: Scope, person_ids: Sequence[int], since: dt.datetime | None = None
) -> dict[int, PersonResult]:
    """Each person's latest test sampled at or after `since` (persons without one are absent).

    Counts mass-testing samples (the result of the tube the swab went into, or of the
    single-tube retest) and scheduled tests recorded on control orders. A sample is in scope
    by the person's home node when sampled. One query, whatever the number of persons.
    """
    if not person_ids or not scope.paths:
        return {}
    params: list[Any] = []
    ids = _ids_sql(person_ids, params)
    s_scope = scope_sql("s.jurisdiction_path", scope, params)
    s_since = ""
    if since is not None:
        s_since = " AND s.sampled_at >= %s"
        params.append(connection.ops.adapt_datetimefield_value(since))
    r_scope = scope_sql("r.jurisdiction_path", scope, params)
    r_since = ""
    if since is not None:
        r_since = " AND r.sampled_at >= %s"
        params.append(connection.ops.adapt_datetimefield_value(since))
    c_scope = scope_sql("c.jurisdiction_path", scope, params)
    c_since = ""
    if since is not None:
        c_since = " AND c.sampled_at >= %s"
        params.append(connection.ops.adapt_datetimefield_value(since))
    # Only fixed fragments are interpolated; every value is a parameter.
    sql = f"""
        WITH ids AS ({ids}),
        tests AS (
            SELECT s.person_id AS pid, s.sampled_at AS sampled_at, t.result AS result,
                   t.result_at AS result_at, 0 AS src, s.id AS rid
            FROM mass_testing_sample s JOIN mass_testing_tube t ON t.id = s.tube_id
            WHERE s.person_id IN (SELECT pid FROM ids) AND {s_scope}{s_since}
            UNION ALL
            SELECT r.person_id, r.sampled_at, r.result, r.result_at, 1, r.id
            FROM mass_testing_retest r
            WHERE r.person_id IN (SELECT pid FROM ids) AND r.sampled_at IS NOT NULL
              AND r.tube_id IS NULL AND {r_scope}{r_since}
            UNION ALL
            SELECT o.person_id, c.sampled_at, c.status, c.recorded_at, 2, c.id
            FROM control_scheduledtest c JOIN control_controlorder o ON o.id = c.order_id
            WHERE o.person_id IN (SELECT pid FROM ids) AND c.sampled_at IS NOT NULL
              AND c.status IN ('negative', 'positive') AND {c_scope}{c_since}
        ),
        ranked AS (
            SELECT pid, sampled_at, result, result_at,
                   row_number() OVER (
                       PARTITION BY pid ORDER BY sampled_at DESC, src DESC, rid DESC
                   ) AS rn,
                   max(CASE WHEN result = 'negative' THEN sampled_at END)
                       OVER (PARTITION BY pid) AS last_negative_at
            FROM tests
        )
        SELECT pid, sampled_at, result, result_at, last_negative_at FROM ranked WHERE rn = 1
    """  # noqa: S608
    out: dict[int, PersonResult] = {}
    with connection.cursor() as cur:
        cur.execute(sql, params)
        for pid, sampled_at, result, result_at, last_negative_at in cur.fetchall():
            sampled = _aware(sampled_at)
            assert sampled is not None
            out[int(pid)] = PersonResult(
                person_id=int(pid),
                last_sampled_at=sampled,
                last_result=result if result in RESULTS else "pending",
                last_negative_at=_aware(last_negative_at),
                last_result_at=_aware(result_at) if result in ("negative", "positive") else None,
            )
    return out


# --- rounds, coverage, pools -----------------------------------------------------------------
