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
from typing import NamedTuple

from django.db import IntegrityError, transaction

from fangkong.audit.services import record
from fangkong.core import clock
from fangkong.core.actor import Actor, require
from fangkong.core.errors import Conflict, Invalid
from fangkong.core.idnumbers import normalise_document_number
from fangkong.core.perms import Perm
from fangkong.mass_testing import rules
from fangkong.mass_testing.models import Round, Tube
from fangkong.mass_testing.rules import ScanOutcome
from fangkong.mass_testing.services import _ingest_db as db
from fangkong.mass_testing.services import _ingest_write as dbw
from fangkong.mass_testing.services._common import in_round, section
from fangkong.people.protect import doc_index
from fangkong.policy.sections.mass_testing import AreaType

MAX_BATCH = 5000
FUTURE_SLACK = dt.timedelta(minutes=10)
ATTEMPTS = 5


class Collided(Conflict):
    """The batch kept colliding with concurrent ones: the client sends it again (429)."""


class ScanIn(NamedTuple):  # a named tuple: thousands a batch, built cheaply
    client_id: str
    barcode: str
    sampled_at: dt.datetime
    doc_number: str = ""
    person_id: int | None = None
    site_id: int | None = None
    sampler: str = ""
    close_tube: bool = False


class ScanAnswer(NamedTuple):
    client_id: str
    outcome: str
    barcode: str = ""


_CLIENT_ID = rules.CLIENT_ID_RE.match
_BARCODE = rules.BARCODE_RE.match


def _precheck(scan: ScanIn, earliest: dt.datetime, latest: dt.datetime) -> str | None:
    """What is wrong with the scan by itself: ids, time (between an hour before the round
    starts and a little after now), a person named."""
    at = scan.sampled_at
    if not _CLIENT_ID(scan.client_id or "") or not _BARCODE(scan.barcode or ""):
        return ScanOutcome.INVALID
    if at.tzinfo is None or at > latest:
        return ScanOutcome.INVALID
    if at < earliest:
        return ScanOutcome.OUT_OF_ROUND
    if not scan.doc_number and scan.person_id is None:
        return ScanOutcome.INVALID
    return None


def _persons(scans: Sequence[ScanIn]) -> tuple[dict[str, db.PersonRef], dict[int, db.PersonRef]]:
    """Persons named in the batch, by document index and by id: (id, path, grid, household)."""
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
    found_doc: dict[str, db.PersonRef] = {}
    found_id: dict[int, db.PersonRef] = {}
    person = (
        "SELECT id, doc_bidx, jurisdiction_path, grid_id, household_id FROM people_person "
        "WHERE merged_into_id IS NULL AND "
    )
    if by_doc:
        rows = db.lookup(
            sorted(set(by_doc.values())),
            pg_type="text",
            inner=person + "doc_bidx = v.k",
            column="doc_bidx",
            outer=person + "{cond}",
            params=[],
        )
        idx = {bidx: (pk, path, grid, hh) for pk, bidx, path, grid, hh in rows}
        found_doc = {raw: idx[b] for raw, b in by_doc.items() if b in idx}
    if ids:
        rows = db.lookup(
            sorted(ids),
            pg_type="bigint",
            inner=person + "id = v.k",
            column="id",
            outer=person + "{cond}",
            params=[],
        )
        found_id = {pk: (pk, path, grid, hh) for pk, _b, path, grid, hh in rows}
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
    ctx = db.round_context(rnd.pk, {s.site_id for s in scans if s.site_id is not None})
    if ctx.status != Round.Status.OPEN:
        raise Conflict("mass_testing.round_closed", "The round is closed")
    persons = _persons(scans)
    for attempt in range(ATTEMPTS):
        try:
            with transaction.atomic():
                return _ingest(actor, rnd, ctx, scans, persons, batch_id)
        except IntegrityError:
            # Another batch created one of our new tubes, stored one of our client ids or put
            # one of our persons in an open tube between our read and our write: run again,
            # it is visible now.
            if attempt == ATTEMPTS - 1:
                raise Collided(
                    "mass_testing.busy", "The batch collided with another; send it again"
                ) from None
    raise AssertionError("unreachable")


def _new_tube(
    rnd: Round, ctx: db.RoundContext, barcode: str, site_id: int | None, who: db.PersonRef
) -> db.TubeRow:
    """A tube seen for the first time: its pooling from the deepest area containing the site
    (or the person's home), the rulebook's general rule outside every area."""
    site_path = ctx.sites.get(site_id) if site_id is not None else None
    where = site_path or who[1]
    best: tuple[str, str, int] | None = None
    for area in ctx.areas:
        if where.startswith(area[0]) and (best is None or len(area[0]) > len(best[0])):
            best = area
    if best is not None:
        pooling, size = best[1], best[2]
    else:
        general = section()[0].pools[AreaType.GENERAL]
        pooling, size = general.pooling.value, general.pool_size
    path = site_path or (best[0] if best is not None else who[1])
    return db.TubeRow(
        None, barcode, Tube.Status.OPEN, 0, size, rules.tube_kind(pooling), path, site_id
    )


def _member(  # noqa: PLR0917 - the scan's person and the batch's member bookkeeping
    who: db.PersonRef,
    scan: ScanIn,
    known: db.Members,
    new_members: dict[int, tuple[str, int | None, bool]],
    moved: dict[int, tuple[str, int, int]],
    tally: dbw.Tally,
) -> None:
    """Keep the member table's rows for an accepted scan: a person's first sample in the round
    adds a row and counts in their grid's coverage; a later one moves the row to this tube."""
    person, grid = who[0], who[2]
    if person in new_members:  # sampled twice in this batch (their first tube closed)
        new_members[person] = (scan.barcode, new_members[person][1], True)
    elif person in known.tube:
        moved[person] = (scan.barcode, known.tube[person][0], known.row[person])
    else:
        new_members[person] = (scan.barcode, grid, False)
        if grid is not None:
            tally.first_sample(grid, scan.sampled_at, excused=person in known.excused)


def _ingest(  # noqa: PLR0912, PLR0915, PLR0917 - one pass over the batch, in order
    actor: Actor,
    rnd: Round,
    ctx: db.RoundContext,
    scans: Sequence[ScanIn],
    persons: tuple[dict[str, db.PersonRef], dict[int, db.PersonRef]],
    batch_id: str,
) -> list[ScanAnswer]:
    now = clock.now()
    earliest, latest = rnd.starts_at - dt.timedelta(hours=1), now + FUTURE_SLACK
    by_doc, by_id = persons
    # Lock the tubes first: a concurrent retry of this batch waits here, then sees our ids.
    tubes, other_round = db.lock_tubes(rnd.pk, sorted({s.barcode for s in scans if s.barcode}))
    seen = db.seen_client_ids(rnd.pk, [s.client_id for s in scans])
    pids = sorted({p[0] for p in by_doc.values()} | set(by_id))
    known = db.members(rnd.pk, pids)
    open_tube = {p: code for p, (_id, code, status) in known.tube.items() if status == "open"}
    # Sealed compounds: a household tube takes one household (rules.household_outcome).
    households = db.households_of(
        [p for t in tubes.values() if t.kind == Tube.Kind.HOUSEHOLD for p in t.person_ids]
    )

    answers: list[ScanAnswer] = []
    samples: list[tuple[object, ...]] = []
    # The member table's rows to add (first sample in the round) or to move (sampled again),
    # and what the first samples add to the coverage counters.
    new_members: dict[int, tuple[str, int | None, bool]] = {}
    moved: dict[int, tuple[str, int, int]] = {}
    tally = dbw.Tally()
    for scan in scans:
        if scan.client_id in seen:
            answers.append(ScanAnswer(scan.client_id, ScanOutcome.DUPLICATE, seen[scan.client_id]))
            continue
        bad = _precheck(scan, earliest, latest)
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
        if scan.site_id is not None and scan.site_id not in ctx.sites:
            answers.append(ScanAnswer(scan.client_id, ScanOutcome.SITE_UNKNOWN, scan.barcode))
            continue
        tube = tubes.get(scan.barcode)
        state = (
            None
            if tube is None
            else rules.TubeState(tube.status, tube.members, tube.pool_size, tube.person_ids)
        )
        outcome = rules.scan_outcome(
            state, person_id=who[0], open_tube_of_person=open_tube.get(who[0]), barcode=scan.barcode
        )
        if (
            outcome == ScanOutcome.ACCEPTED
            and tube is not None
            and tube.kind == Tube.Kind.HOUSEHOLD
        ):
            outcome = (
                rules.household_outcome(
                    tube_kind=tube.kind,
                    households_in_tube=[households.get(p) for p in tube.person_ids],
                    person_household=who[3],
                )
                or outcome
            )
        if outcome != ScanOutcome.ACCEPTED:
            answers.append(ScanAnswer(scan.client_id, outcome, scan.barcode))
            continue
        households[who[0]] = who[3]
        if tube is None:
            tube = tubes[scan.barcode] = _new_tube(rnd, ctx, scan.barcode, scan.site_id, who)
        tube.add(who[0], who[2])
        _member(who, scan, known, new_members, moved, tally)
        if tube.members >= tube.pool_size or scan.close_tube:
            tube.status = Tube.Status.CLOSED
            for p in tube.person_ids:
                if open_tube.get(p) == tube.barcode:
                    del open_tube[p]
        else:
            open_tube[who[0]] = tube.barcode
        seen[scan.client_id] = scan.barcode
        samples.append(
            (scan.barcode, who[0], who[1], who[2], scan.site_id, scan.sampler[:64].replace("\x00", ""),
             scan.sampled_at, scan.client_id)
        )  # fmt: skip
        answers.append(ScanAnswer(scan.client_id, ScanOutcome.ACCEPTED, scan.barcode))

    if samples:
        dbw.write(
            round_id=rnd.pk,
            tubes=tubes,
            samples=samples,
            new_members=new_members,
            moved_members=moved,
            tally=tally,
            now=now,
        )
        record(
            actor=actor,
            action="mass_testing.scans_ingest",
            target=rnd,
            detail={"batch_id": batch_id[:64], "scans": len(scans), "accepted": len(samples)},
        )
    return answers
