"""Writing a validated list, set-based, in the caller's transaction.

The batch's persons (blind index, row) go to a temporary table first; the registry match,
the sources, the created/merged counts and the merged arrivals' update are each one statement
joined on it. The new arrivals are built in chunks (their personal values encrypted in bulk)
and inserted in blind-index order with `ON CONFLICT DO NOTHING` on the one-open-arrival
index: a person someone opened meanwhile is skipped and merged into, and two imports that
overlap meet their common persons in the same order (no deadlock). SQLite takes the rows by
executemany; PostgreSQL by COPY into a temporary table and one INSERT ... SELECT.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from fangkong.audit.services import record
from fangkong.core import clock, crypto
from fangkong.core.actor import Actor
from fangkong.jobs.services import enqueue
from fangkong.jurisdictions.models import Jurisdiction
from fangkong.people import protect
from fangkong.policy.selectors import BookInForce, rulebook_in_force
from fangkong.screening import rules
from fangkong.screening.imports.reading import Progress, Row
from fangkong.screening.models import ImportBatch
from fangkong.screening.placing import Placer, placer_for
from fangkong.screening.services._common import Entry, Registered, place_with_registry, tally_apply

HAND_OUT_JOB = "screening.hand_out"
CHUNK = 5000  # arrivals built (and encrypted) at a time: bounds the memory of a large file
KEYS = "screening_import_keys"
STAGE = "screening_import_arrivals"

# The columns an import writes for a new arrival (the builder's tuple), then those that start
# the same for every new arrival; `updated_at` repeats `created_at`.
ARRIVAL_COLUMNS = (
    "doc_type", "doc_number", "doc_bidx", "name", "phone", "address", "person_id",
    "jurisdiction_id", "jurisdiction_path", "placed", "origin", "route", "returnee_class",
    "arrival_date", "risk_codes", "risk_level", "category", "measure", "due_at",
    "policy_version", "first_batch_id", "created_at",
)  # fmt: skip
ARRIVAL_CONSTANTS: dict[str, Any] = {
    "status": "received", "not_reached_reason": "", "address_confirmed": False,
    "sample_ref": "", "under_control": False, "notes": "", "source_count": 1,
    "verified_by": "",
}  # fmt: skip


@dataclass(slots=True)
class ImportResult:
    batch_id: int | None = None
    rows: int = 0
    created: int = 0
    merged: int = 0
    unchanged: int = 0
    already_imported: bool = False
    errors: list[Any] = field(default_factory=list)


def commit(
    *, actor: Actor, batch: ImportBatch, rows: list[Row], progress: Progress | None = None
) -> ImportResult:
    """Write validated rows (in the caller's transaction)."""
    in_force = rulebook_in_force()
    now = clock.now()
    batch.state, batch.finished_at, batch.content = ImportBatch.State.DONE, now, None
    batch.rows_total = len(rows)
    batch.save()
    firsts: dict[str, Row] = {}
    for bidx, r in zip(protect.doc_index_many(r.entry.doc_number for r in rows), rows, strict=True):
        firsts.setdefault(bidx, r)
    pg = connection.vendor == "postgresql"
    with connection.cursor() as cur:
        _keys_load(cur, firsts, pg=pg)
        persons = _registry(cur)
        # The placer reads the tree now: no query may run while a COPY holds the connection.
        build = _Builder(
            in_force=in_force,
            root=batch.jurisdiction,
            batch=batch,
            now=now,
            placer=placer_for(batch.jurisdiction),
        )
        ordered = sorted(firsts.items())
        _arrivals_insert(cur, build.chunks(ordered, persons), pg=pg)
        if progress is not None:
            progress(len(rows), 1)
        created, merged = _link(cur, batch, now=now, pg=pg)
        cur.execute(f"DROP TABLE {_temp(pg)}.{KEYS}")
    result = ImportResult(
        batch_id=batch.pk,
        rows=len(rows),
        created=created,
        merged=merged,
        unchanged=len(rows) - len(firsts),
    )
    ImportBatch.objects.filter(pk=batch.pk).update(
        created_count=created,
        merged_count=merged,
        unchanged_count=result.unchanged,
        rows_done=len(rows),
    )
    enqueue(name=HAND_OUT_JOB, payload={"batch": batch.pk})
    record(
        actor=actor,
        action="screening.import",
        target=batch,
        detail={
            "source": batch.source_name,
            "kind": batch.kind,
            "rows": len(rows),
            "created": created,
            "merged": merged,
            "sha256": batch.sha256,
        },
    )
    return result


def _temp(pg: bool) -> str:
    """The connection's own schema of temporary tables: a DROP never reaches a real table."""
    return "pg_temp" if pg else "temp"


def _keys_load(cur: Any, firsts: dict[str, Row], *, pg: bool) -> None:
    """The batch's persons (blind index, the row naming them first) as a temporary table."""
    cur.execute(f"DROP TABLE IF EXISTS {_temp(pg)}.{KEYS}")
    if pg:
        cur.execute(
            f"CREATE TEMPORARY TABLE {KEYS} (bidx varchar(32) PRIMARY KEY, "
            "row_number integer NOT NULL) ON COMMIT DROP"
        )
        with cur.cursor.copy(f"COPY {KEYS} (bidx, row_number) FROM STDIN") as copy:
            for bidx, r in firsts.items():
                copy.write_row((bidx, r.number))
        cur.execute(f"ANALYZE {KEYS}")
        return
    cur.execute(
        f"CREATE TEMPORARY TABLE {KEYS} (bidx TEXT PRIMARY KEY, row_number INTEGER NOT NULL)"
    )
    cur.executemany(
        f"INSERT INTO {KEYS} (bidx, row_number) VALUES (%s, %s)",  # noqa: S608
        [(bidx, r.number) for bidx, r in firsts.items()],
    )


def _registry(cur: Any) -> dict[str, Registered]:
    """The registry's persons with the batch's document numbers (not merged away)."""
    cur.execute(
        f"SELECT k.bidx, p.id, p.grid_id, p.jurisdiction_path FROM {KEYS} k "  # noqa: S608
        "JOIN people_person p ON p.doc_bidx = k.bidx WHERE p.merged_into_id IS NULL"
    )
    return {bidx: Registered(pk, grid_id, path) for bidx, pk, grid_id, path in cur.fetchall()}


def _arrivals_insert(cur: Any, chunks: Iterator[list[tuple[Any, ...]]], *, pg: bool) -> None:
    names = [*ARRIVAL_COLUMNS, *ARRIVAL_CONSTANTS]
    target = ", ".join([*names, "updated_at"])
    consts = tuple(ARRIVAL_CONSTANTS.values())
    if pg:
        cur.execute(f"DROP TABLE IF EXISTS {_temp(pg)}.{STAGE}")
        cur.execute(
            f"CREATE TEMPORARY TABLE {STAGE} ON COMMIT DROP AS "  # noqa: S608
            f"SELECT {', '.join(ARRIVAL_COLUMNS)} FROM screening_arrival WITH NO DATA"
        )
        with cur.cursor.copy(f"COPY {STAGE} ({', '.join(ARRIVAL_COLUMNS)}) FROM STDIN") as copy:
            for chunk in chunks:
                for row in chunk:
                    copy.write_row(row)
        marks = ", ".join(["%s"] * len(consts))
        cur.execute(
            f"INSERT INTO screening_arrival ({target}) "  # noqa: S608
            f"SELECT {', '.join(ARRIVAL_COLUMNS)}, {marks}, created_at FROM {STAGE} "
            "ORDER BY doc_bidx ON CONFLICT DO NOTHING",
            consts,
        )
        cur.execute(f"DROP TABLE {_temp(pg)}.{STAGE}")
        return
    marks = ", ".join(["%s"] * (len(names) + 1))
    sql = f"INSERT INTO screening_arrival ({target}) VALUES ({marks}) ON CONFLICT DO NOTHING"  # noqa: S608
    at = ARRIVAL_COLUMNS.index("created_at")
    for chunk in chunks:
        cur.executemany(sql, [(*row, *consts, row[at]) for row in chunk])


def _link(cur: Any, batch: ImportBatch, *, now: Any, pg: bool) -> tuple[int, int]:
    """A source for every person of the batch on their open arrival; merged arrivals count
    one more source; the tally. Returns (created, merged)."""
    at = connection.ops.adapt_datetimefield_value(now)
    join = f"FROM {KEYS} k JOIN screening_arrival a ON a.doc_bidx = k.bidx AND a.closed_at IS NULL"
    cur.execute(
        "INSERT INTO screening_arrivalsource "
        "(arrival_id, kind, name, key, batch_id, row_number, received_at) "
        f"SELECT a.id, %s, %s, %s, %s, k.row_number, %s {join}",
        [batch.kind, batch.source_name, f"batch:{batch.pk}", batch.pk, at],
    )
    cur.execute(
        f"SELECT a.jurisdiction_path, a.placed, COUNT(*) {join} "
        "WHERE a.first_batch_id = %s GROUP BY a.jurisdiction_path, a.placed",
        [batch.pk],
    )
    paths_new: Counter[tuple[str, bool]] = Counter()
    created = 0
    for path, placed, n in cur.fetchall():
        paths_new[(path, bool(placed))] += n
        created += n
    # Arrivals someone else opened: locked in id order (concurrent imports merge into the
    # same rows), then one more source each.
    others = "(a.first_batch_id IS NULL OR a.first_batch_id <> %s)"
    cur.execute(
        f"SELECT a.jurisdiction_path, a.source_count {join} WHERE {others} "
        "ORDER BY a.id" + (" FOR UPDATE OF a" if pg else ""),
        [batch.pk],
    )
    found = cur.fetchall()
    dup_paths = Counter(path for path, count in found if count == 1)
    if found:
        cur.execute(
            "UPDATE screening_arrival SET source_count = source_count + 1, updated_at = %s "  # noqa: S608
            f"WHERE id IN (SELECT a.id {join} WHERE {others} AND a.source_count < 32767)",
            [at, batch.pk],
        )
    tally_apply(_deltas(paths_new, dup_paths))
    return created, len(found)


def _deltas(
    paths_new: Counter[tuple[str, bool]], dup_paths: Counter[str]
) -> dict[tuple[str, str], int]:
    out: Counter[tuple[str, str]] = Counter()
    for (path, placed), n in paths_new.items():
        for node in rules.ancestor_paths(path):
            out[(node, "received")] += n
            if not placed:
                out[(node, "unplaced")] += n
    for path, n in dup_paths.items():
        for node in rules.ancestor_paths(path):
            out[(node, "duplicates")] += n
    return dict(out)


def _sealed(values: Sequence[str]) -> list[str]:
    """Encrypted values; an empty value stays empty."""
    at = [i for i, v in enumerate(values) if v]
    out = [""] * len(values)
    for i, token in zip(at, crypto.encrypt_many([values[i] for i in at]), strict=True):
        out[i] = token
    return out


@dataclass(slots=True)
class _Builder:
    """New arrivals' rows, in ARRIVAL_COLUMNS order, ready for the database. Classification
    and placing repeat for the same origin/route/class/date and the same address: each is
    worked out once per batch."""

    in_force: BookInForce
    root: Jurisdiction
    batch: ImportBatch
    now: Any
    placer: Placer
    _classified: dict[tuple[str, str, str, Any], tuple[Any, ...]] = field(default_factory=dict)
    _places: dict[str, tuple[int, str, bool]] = field(default_factory=dict)
    _dates: dict[Any, Any] = field(default_factory=dict)

    def chunks(
        self, ordered: list[tuple[str, Row]], persons: dict[str, Registered]
    ) -> Iterator[list[tuple[Any, ...]]]:
        tail = (
            self.in_force.version,
            self.batch.pk,
            connection.ops.adapt_datetimefield_value(self.now),
        )
        for start in range(0, len(ordered), CHUNK):
            part = ordered[start : start + CHUNK]
            entries = [r.entry for _, r in part]
            sealed = zip(
                crypto.encrypt_many([e.doc_number for e in entries]),
                crypto.encrypt_many([e.name for e in entries]),
                _sealed([e.phone for e in entries]),
                _sealed([e.address for e in entries]),
                strict=True,
            )
            rows = []
            for (bidx, _row), e, (doc, name, phone, address) in zip(
                part, entries, sealed, strict=True
            ):
                known = persons.get(bidx)
                node_id, path, placed = self._place(e.address)
                if not placed and known is not None:
                    node_id, path, placed = place_with_registry(
                        node_id, path, placed, known, self.root
                    )
                rows.append(
                    (
                        e.doc_type,
                        doc,
                        bidx,
                        name,
                        phone,
                        address,
                        known.person_id if known else None,
                        node_id,
                        path,
                        placed,
                        e.origin,
                        e.route,
                        e.returnee_class,
                        self._date(e.arrival_date),
                        *self._classify(e),
                        *tail,
                    )
                )
            yield rows

    def _classify(self, e: Entry) -> tuple[Any, ...]:
        """risk_codes, risk_level, category, measure, due_at."""
        key = (e.origin, e.route, e.returnee_class, e.arrival_date)
        found = self._classified.get(key)
        if found is None:
            book = self.in_force.book
            c = rules.classify(
                book,
                origin=e.origin,
                route=e.route,
                returnee_class=e.returnee_class,
                arrival_date=e.arrival_date,
                today=clock.local_date(),
            )
            due = rules.verify_deadline(book, level=c.risk_level, from_=self.now)
            found = (
                json.dumps(list(c.risk_codes)),
                c.risk_level.value if c.risk_level else "",
                c.category.value if c.category else "",
                c.measure.value if c.measure else "",
                connection.ops.adapt_datetimefield_value(due),
            )
            self._classified[key] = found
        return found

    def _place(self, address: str) -> tuple[int, str, bool]:
        found = self._places.get(address)
        if found is None:
            node, placed = self.placer.place(address)
            found = (node.id, node.path, placed)
            self._places[address] = found
        return found

    def _date(self, day: Any) -> Any:
        if day is None:
            return None
        if day not in self._dates:
            self._dates[day] = connection.ops.adapt_datefield_value(day)
        return self._dates[day]
