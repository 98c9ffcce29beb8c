"""The sampling ingest: batches of scans from scanner apps, the sampler phone page and
third-party systems.

A batch is answered scan by scan. Each scan carries the client's own id: a scan whose id was
accepted before answers `duplicate` and adds nothing, so a retried batch (lost answer, phone
back online) is never counted twice. A batch is one transaction: when the answer arrives, its
accepted scans are committed (durable); when it does not, nothing was half-done and the client
sends the same batch again. Tubes are locked in barcode order, so two batches filling the same
tube queue behind each other instead of overfilling it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connection, transaction

from fangkong.audit.services import record
from fangkong.core import clock
from fangkong.core.actor import Actor, require
from fangkong.core.errors import Conflict, Invalid
from fangkong.core.idnumbers import normalise_document_number
from fangkong.core.perms import Perm
from fangkong.mass_testing import rules
from fangkong.mass_testing.models import Round, RoundArea, Site, Tube
from fangkong.mass_testing.rules import ScanOutcome
from fangkong.mass_testing.services._common import area_for, in_round, section
from fangkong.people.protect import doc_index
from fangkong.policy.sections.mass_testing import AreaType

MAX_BATCH = 5000
FUTURE_SLACK = dt.timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class ScanIn:
    client_id: str
    barcode: str
    sampled_at: dt.datetime
    doc_number: str = ""
    person_id: int | None = None
    site_id: int | None = None
    sampler: str = ""
    close_tube: bool = False


@dataclass(frozen=True, slots=True)
class ScanAnswer:
    client_id: str
    outcome: str
    barcode: str = ""


@dataclass(slots=True)
class _Tube:
    id: int | None
    barcode: str
    status: str
    members: int
    pool_size: int
    kind: str
    path: str
    site_id: int | None
    person_ids: set[int]
    changed: bool = False


def _precheck(scan: ScanIn, rnd: Round, now: dt.datetime) -> str | None:
    if not rules.CLIENT_ID_RE.match(scan.client_id or ""):
        return ScanOutcome.INVALID
    if not rules.BARCODE_RE.match(scan.barcode or ""):
        return ScanOutcome.INVALID
    if scan.sampled_at.tzinfo is None or scan.sampled_at > now + FUTURE_SLACK:
        return ScanOutcome.INVALID
    if scan.sampled_at < rnd.starts_at - dt.timedelta(hours=1):
        return ScanOutcome.OUT_OF_ROUND
    if not scan.doc_number and scan.person_id is None:
        return ScanOutcome.INVALID
    return None


def _persons(
    scans: Sequence[ScanIn],
) -> tuple[dict[str, tuple[int, str, int | None]], dict[int, tuple[int, str, int | None]]]:
    """Persons named in the batch, by document index and by id: (id, path, grid id)."""
    by_doc: dict[str, str] = {}
    for s in scans:
        if s.doc_number:
            try:
                number = normalise_document_number(s.doc_number)
            except Invalid:
                continue
            if number:
                by_doc[s.doc_number] = doc_index(number)
    ids = {s.person_id for s in scans if s.person_id is not None}
    found_doc: dict[str, tuple[int, str, int | None]] = {}
    found_id: dict[int, tuple[int, str, int | None]] = {}
    person = "SELECT id, doc_bidx, jurisdiction_path, grid_id FROM people_person WHERE "
    if by_doc:
        cond, param = _any("doc_bidx", sorted(set(by_doc.values())), text=True)
        rows = _fetch(person + cond + " AND merged_into_id IS NULL", [param])
        idx = {bidx: (pk, path, grid) for pk, bidx, path, grid in rows}
        found_doc = {raw: idx[b] for raw, b in by_doc.items() if b in idx}
    if ids:
        cond, param = _any("id", sorted(ids))
        rows = _fetch(person + cond + " AND merged_into_id IS NULL", [param])
        found_id = {pk: (pk, path, grid) for pk, _b, path, grid in rows}
    return found_doc, found_id


def _any(column: str, values: Sequence[object], *, text: bool = False) -> tuple[str, object]:
    """`column` in `values` as one parameter (an array, or a JSON list on SQLite): the ORM's
    IN with a thousand parameters cost more than the query itself."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)", list(values)
    cast = "" if text else "CAST(value AS INTEGER)"
    sql = f"{column} IN (SELECT {cast or 'value'} FROM json_each(%s))"  # noqa: S608
    return sql, json.dumps(list(values))


def _fetch(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return list(cur.fetchall())


def scans_ingest(
    *, actor: Actor, rnd: Round, scans: Sequence[ScanIn], batch_id: str = ""
) -> list[ScanAnswer]:
    """Record a batch of scans; one answer per scan, in order.

    Raises NotFound (round outside scope), Conflict (round closed), Invalid (batch too big).
    """
    require(actor, Perm.TESTING_SAMPLE)
    in_round(actor, rnd)
    if len(scans) > MAX_BATCH:
        raise Invalid("mass_testing.batch_too_big", f"At most {MAX_BATCH} scans per batch")
    if not scans:
        return []
    status = Round.objects.filter(pk=rnd.pk).values_list("status", flat=True).first()
    if status != Round.Status.OPEN:
        raise Conflict("mass_testing.round_closed", "The round is closed")
    persons = _persons(scans)
    for attempt in range(3):
        try:
            with transaction.atomic():
                return _ingest(actor, rnd, scans, persons, batch_id)
        except IntegrityError:
            # Another batch created one of our new tubes (or stored one of our client ids)
            # between our read and our insert: run again, it is visible now.
            if attempt == 2:
                raise Conflict(
                    "mass_testing.busy", "The batch collided with another; send it again"
                ) from None
    raise AssertionError("unreachable")


def _ingest(  # noqa: PLR0912, PLR0915 - one pass over the batch, in order
    actor: Actor,
    rnd: Round,
    scans: Sequence[ScanIn],
    persons: tuple[dict[str, tuple[int, str, int | None]], dict[int, tuple[int, str, int | None]]],
    batch_id: str,
) -> list[ScanAnswer]:
    now = clock.now()
    by_doc, by_id = persons
    barcodes = sorted({s.barcode for s in scans if s.barcode})
    # Lock the tubes first: a concurrent retry of this batch waits here, then sees our ids.
    cond, param = _any("barcode", barcodes, text=True)
    lock = " FOR UPDATE" if connection.vendor == "postgresql" else ""
    locked = _fetch(
        "SELECT id, barcode, round_id, status, members, pool_size, kind, jurisdiction_path, "  # noqa: S608
        f"site_id FROM mass_testing_tube WHERE {cond} ORDER BY barcode{lock}",
        [param],
    )
    tubes: dict[str, _Tube] = {}
    other_round: set[str] = set()
    for pk, code, round_id, status, members, size, kind, path, site_id in locked:
        if round_id != rnd.pk:
            other_round.add(code)
            continue
        tubes[code] = _Tube(pk, code, status, members, size, kind, path, site_id, set())
    by_pk = {t.id: t for t in tubes.values() if t.id is not None}
    if by_pk:
        cond, param = _any("tube_id", sorted(by_pk))
        for tube_id, person_id in _fetch(
            f"SELECT tube_id, person_id FROM mass_testing_sample WHERE {cond}",  # noqa: S608
            [param],
        ):
            by_pk[tube_id].person_ids.add(person_id)
    join = "FROM mass_testing_sample s JOIN mass_testing_tube t ON t.id = s.tube_id"
    cond, param = _any("s.client_id", sorted({s.client_id for s in scans}), text=True)
    seen: dict[str, str] = dict(
        _fetch(
            f"SELECT s.client_id, t.barcode {join} WHERE s.round_id = %s AND {cond}",
            [rnd.pk, param],
        )
    )
    pids = sorted({p[0] for p in by_doc.values()} | set(by_id))
    cond, param = _any("s.person_id", pids)
    open_tube: dict[int, str] = dict(
        _fetch(
            f"SELECT s.person_id, t.barcode {join} WHERE s.round_id = %s AND {cond} "
            "AND t.status = 'open'",
            [rnd.pk, param],
        )
    )
    sites = {s.pk: s for s in Site.objects.filter(round=rnd)}
    areas = list(RoundArea.objects.filter(round=rnd))
    book, _ = section()
    general = book.pools[AreaType.GENERAL]

    answers: list[ScanAnswer] = []
    new_samples: list[tuple[ScanIn, _Tube, tuple[int, str, int | None]]] = []
    for scan in scans:
        if scan.client_id in seen:
            answers.append(ScanAnswer(scan.client_id, ScanOutcome.DUPLICATE, seen[scan.client_id]))
            continue
        bad = _precheck(scan, rnd, now)
        if bad is not None:
            answers.append(ScanAnswer(scan.client_id, bad, scan.barcode))
            continue
        who = (
            by_id.get(scan.person_id) if scan.person_id is not None else by_doc.get(scan.doc_number)
        )
        if who is None:
            answers.append(ScanAnswer(scan.client_id, ScanOutcome.PERSON_UNKNOWN, scan.barcode))
            continue
        if scan.barcode in other_round:
            answers.append(ScanAnswer(scan.client_id, ScanOutcome.TUBE_OTHER_ROUND, scan.barcode))
            continue
        site = sites.get(scan.site_id) if scan.site_id is not None else None
        if scan.site_id is not None and site is None:
            answers.append(ScanAnswer(scan.client_id, ScanOutcome.SITE_UNKNOWN, scan.barcode))
            continue
        tube = tubes.get(scan.barcode)
        state = (
            None
            if tube is None
            else rules.TubeState(
                tube.status, tube.members, tube.pool_size, frozenset(tube.person_ids)
            )
        )
        outcome = rules.scan_outcome(
            state, person_id=who[0], open_tube_of_person=open_tube.get(who[0]), barcode=scan.barcode
        )
        if outcome != ScanOutcome.ACCEPTED:
            answers.append(ScanAnswer(scan.client_id, outcome, scan.barcode))
            continue
        if tube is None:
            where = site.jurisdiction_path if site is not None else who[1]
            area = area_for(areas, where)
            pooling, size = (
                (area.pooling, area.pool_size)
                if area is not None
                else (general.pooling.value, general.pool_size)
            )
            tube = _Tube(
                None,
                scan.barcode,
                Tube.Status.OPEN,
                0,
                size,
                rules.tube_kind(pooling),
                site.jurisdiction_path
                if site is not None
                else (area.jurisdiction_path if area else who[1]),
                site.pk if site is not None else None,
                set(),
            )
            tubes[scan.barcode] = tube
        tube.members += 1
        tube.person_ids.add(who[0])
        tube.changed = True
        if tube.members >= tube.pool_size or scan.close_tube:
            tube.status = Tube.Status.CLOSED
            for p in tube.person_ids:
                if open_tube.get(p) == tube.barcode:
                    del open_tube[p]
        else:
            open_tube[who[0]] = tube.barcode
        seen[scan.client_id] = scan.barcode
        new_samples.append((scan, tube, who))
        answers.append(ScanAnswer(scan.client_id, ScanOutcome.ACCEPTED, scan.barcode))

    if new_samples:
        _write(rnd, tubes, new_samples, now)
        accepted = len(new_samples)
        record(
            actor=actor,
            action="mass_testing.scans_ingest",
            target=rnd,
            detail={"batch_id": batch_id[:64], "scans": len(scans), "accepted": accepted},
        )
    return answers


SAMPLE_COLUMNS = (
    "round_id, tube_id, person_id, jurisdiction_path, grid_id, site_id, sampler, sampled_at, "
    "client_id, received_at"
)
TUBE_COLUMNS = (
    "round_id, barcode, site_id, jurisdiction_path, kind, pool_size, members, status, "
    "opened_at, closed_at, result, lab"
)


def _write(
    rnd: Round,
    tubes: dict[str, _Tube],
    new_samples: list[tuple[ScanIn, _Tube, tuple[int, str, int | None]]],
    now: dt.datetime,
) -> None:
    """Insert straight through the driver: the ORM's per-object work was most of a batch's
    time (about 1 ms a scan). PostgreSQL takes the samples by COPY, SQLite by executemany;
    both inside the batch's transaction."""
    at = connection.ops.adapt_datetimefield_value
    stamp = at(now)
    fresh = [t for t in tubes.values() if t.id is None]
    with connection.cursor() as cur:
        if fresh:
            cur.executemany(
                f"INSERT INTO mass_testing_tube ({TUBE_COLUMNS}) "  # noqa: S608
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 'pending', '')",
                [
                    (rnd.pk, t.barcode, t.site_id, t.path, t.kind, t.pool_size, t.members,
                     t.status, stamp, stamp if t.status == Tube.Status.CLOSED else None)
                    for t in fresh
                ],
            )  # fmt: skip
            ids = dict(
                Tube.objects.filter(barcode__in=[t.barcode for t in fresh]).values_list(
                    "barcode", "pk"
                )
            )
            for t in fresh:
                t.id = ids[t.barcode]
        fresh_ids = {id(t) for t in fresh}
        old = [t for t in tubes.values() if t.changed and id(t) not in fresh_ids]
        if old:
            cur.executemany(
                "UPDATE mass_testing_tube SET members = %s, status = %s, closed_at = %s "
                "WHERE id = %s",
                [
                    (t.members, t.status, stamp if t.status == Tube.Status.CLOSED else None, t.id)
                    for t in old
                ],
            )
        rows = [
            (rnd.pk, tube.id, who[0], who[1], who[2], scan.site_id, scan.sampler[:64],
             at(scan.sampled_at), scan.client_id, stamp)
            for scan, tube, who in new_samples
        ]  # fmt: skip
        if connection.vendor == "postgresql":
            with cur.cursor.copy(f"COPY mass_testing_sample ({SAMPLE_COLUMNS}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            cur.executemany(
                f"INSERT INTO mass_testing_sample ({SAMPLE_COLUMNS}) "  # noqa: S608
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                rows,
            )
