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
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from fangkong.audit.services import record
from fangkong.core import clock
from fangkong.core.actor import Actor, require
from fangkong.core.errors import Conflict, Invalid
from fangkong.core.idnumbers import normalise_document_number
from fangkong.core.perms import Perm
from fangkong.mass_testing import rules
from fangkong.mass_testing.models import Round, RoundArea, Sample, Site, Tube
from fangkong.mass_testing.rules import ScanOutcome
from fangkong.mass_testing.services._common import area_for, in_round, section
from fangkong.people.models import Person
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
    active = Person.objects.filter(merged_into__isnull=True)
    if by_doc:
        rows = active.filter(doc_bidx__in=set(by_doc.values())).values_list(
            "pk", "doc_bidx", "jurisdiction_path", "grid_id"
        )
        idx = {bidx: (pk, path, grid) for pk, bidx, path, grid in rows}
        found_doc = {raw: idx[b] for raw, b in by_doc.items() if b in idx}
    if ids:
        rows2 = active.filter(pk__in=ids).values_list("pk", "jurisdiction_path", "grid_id")
        found_id = {pk: (pk, path, grid) for pk, path, grid in rows2}
    return found_doc, found_id


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
    locked = list(
        Tube.objects.select_for_update()
        .filter(barcode__in=barcodes)
        .order_by("barcode")
        .values_list(
            "pk",
            "barcode",
            "round_id",
            "status",
            "members",
            "pool_size",
            "kind",
            "jurisdiction_path",
            "site_id",
        )
    )
    tubes: dict[str, _Tube] = {}
    other_round: set[str] = set()
    for pk, code, round_id, status, members, size, kind, path, site_id in locked:
        if round_id != rnd.pk:
            other_round.add(code)
            continue
        tubes[code] = _Tube(pk, code, status, members, size, kind, path, site_id, set())
    by_pk = {t.id: t for t in tubes.values()}
    if by_pk:
        for tube_id, person_id in Sample.objects.filter(tube_id__in=by_pk).values_list(
            "tube_id", "person_id"
        ):
            by_pk[tube_id].person_ids.add(person_id)
    cids = [s.client_id for s in scans]
    seen: dict[str, str] = dict(
        Sample.objects.filter(round=rnd, client_id__in=cids).values_list(
            "client_id", "tube__barcode"
        )
    )
    pids = {p[0] for p in by_doc.values()} | set(by_id)
    open_tube: dict[int, str] = dict(
        Sample.objects.filter(
            round=rnd, person_id__in=pids, tube__status=Tube.Status.OPEN
        ).values_list("person_id", "tube__barcode")
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


def _write(
    rnd: Round,
    tubes: dict[str, _Tube],
    new_samples: list[tuple[ScanIn, _Tube, tuple[int, str, int | None]]],
    now: dt.datetime,
) -> None:
    fresh = [t for t in tubes.values() if t.id is None]
    if fresh:
        made = Tube.objects.bulk_create(
            [
                Tube(
                    round=rnd,
                    barcode=t.barcode,
                    site_id=t.site_id,
                    jurisdiction_path=t.path,
                    kind=t.kind,
                    pool_size=t.pool_size,
                    members=t.members,
                    status=t.status,
                    opened_at=now,
                    closed_at=now if t.status == Tube.Status.CLOSED else None,
                )
                for t in fresh
            ]
        )
        for t, row in zip(fresh, made, strict=True):
            t.id = row.pk
    fresh_ids = {id(t) for t in fresh}
    old = [t for t in tubes.values() if t.changed and id(t) not in fresh_ids]
    if old:
        Tube.objects.bulk_update(
            [
                Tube(
                    pk=t.id,
                    members=t.members,
                    status=t.status,
                    closed_at=now if t.status == Tube.Status.CLOSED else None,
                )
                for t in old
            ],
            ["members", "status", "closed_at"],
        )
    Sample.objects.bulk_create(
        [
            Sample(
                round=rnd,
                tube_id=tube.id or 0,  # set by the bulk insert above
                person_id=who[0],
                jurisdiction_path=who[1],
                grid_id=who[2],
                site_id=scan.site_id,
                sampler=scan.sampler[:64],
                sampled_at=scan.sampled_at,
                client_id=scan.client_id,
                received_at=now,
            )
            for scan, tube, who in new_samples
        ]
    )
