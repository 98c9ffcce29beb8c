"""Shared by the screening services: the tally, the one intake path every source goes
through (find-or-merge the open arrival, classify, place), and handing out the work."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from fangkong.assignments import services as assignments
from fangkong.core import clock, idnumbers, phones
from fangkong.core.actor import Actor, system_actor
from fangkong.core.errors import Invalid, NotFound
from fangkong.core.scope import Scope
from fangkong.core.text import fold
from fangkong.jurisdictions.models import Jurisdiction
from fangkong.people import protect
from fangkong.people.selectors import person_find_by_document
from fangkong.policy.schema import Duty, RiskLevel
from fangkong.policy.selectors import BookInForce, rulebook_in_force
from fangkong.screening import rules
from fangkong.screening.models import Arrival, ArrivalSource, ArrivalStatus, ReturneeClass
from fangkong.screening.placing import placer_for

ARRIVAL_SUBJECT = "screening.arrival"
ASSIST_SUBJECT = "screening.assist"
VERIFY_KIND = "verify_arrival"
LAND_KIND = "land_assist_request"
NAME_MAX = 100
ADDRESS_MAX = 300
PLACE_MAX = 200
ROUTE_MAX = 500
NOTE_MAX = 500
_CLASSES = frozenset(ReturneeClass.values)  # `.values` builds a new list per call


def facts_of(a: Arrival) -> rules.Facts:
    return rules.Facts(
        status=a.status,
        not_reached_reason=a.not_reached_reason,
        under_control=a.under_control,
        sampled=bool(a.sample_ref),
        source_count=a.source_count,
        placed=a.placed,
        closed=a.closed_at is not None,
    )


def tally_apply(deltas: Mapping[tuple[str, str], int]) -> None:
    """Add to the board counters in the caller's transaction (one upsert statement; keys in
    a fixed order so that concurrent writers lock rows in the same order)."""
    rows = sorted((k, v) for k, v in deltas.items() if v)
    if not rows:
        return
    table = "screening_arrivaltally"
    for start in range(0, len(rows), 500):
        chunk = rows[start : start + 500]
        values = ", ".join(["(%s, %s, %s, %s)"] * len(chunk))
        params: list[Any] = []
        for (path, key), count in chunk:
            params += [path, rules.parent_path(path), key, count]
        with connection.cursor() as cur:
            cur.execute(
                f"INSERT INTO {table} (node_path, parent_path, key, count) VALUES {values} "  # noqa: S608
                f"ON CONFLICT (node_path, key) DO UPDATE SET count = {table}.count + excluded.count",
                params,
            )


def tally_change(a: Arrival, before: frozenset[str], before_path: str | None = None) -> None:
    """Move an arrival's counts from its old flags (and path) to its current ones."""
    after = rules.flags(facts_of(a))
    old_path = before_path or a.jurisdiction_path
    if old_path == a.jurisdiction_path:
        tally_apply(rules.tally_deltas(a.jurisdiction_path, before, after))
        return
    deltas = rules.tally_deltas(old_path, before, frozenset())
    for k, v in rules.tally_deltas(a.jurisdiction_path, frozenset(), after).items():
        deltas[k] = deltas.get(k, 0) + v
    tally_apply(deltas)


def clean_text(raw: object, *, field: str, limit: int, required: bool = False) -> str:
    text = " ".join(fold(str(raw or "")).split())
    if required and not text:
        raise Invalid(f"screening.{field}_required", f"{field} is required", field=field)
    if len(text) > limit:
        raise Invalid(f"screening.{field}_too_long", f"{field} is too long", field=field)
    return text


@dataclass(frozen=True, slots=True)
class Entry:
    """One person as a source names them, validated and normalised."""

    doc_type: str
    doc_number: str
    name: str
    phone: str = ""
    address: str = ""
    origin: str = ""
    route: str = ""
    arrival_date: dt.date | None = None
    returnee_class: str = ReturneeClass.OTHER
    category: str = ""  # a category the sender already decided (close contact, ...)


def entry_of(
    *,
    doc_type: str,
    doc_number: object,
    name: str,
    phone: object = "",
    address: str = "",
    origin: str = "",
    route: str = "",
    arrival_date: dt.date | None = None,
    returnee_class: str = ReturneeClass.OTHER,
    category: str = "",
) -> Entry:
    """Validate one person's fields. Raises Invalid naming the field."""
    try:
        facts = idnumbers.validate_document(doc_type or idnumbers.DocType.RESIDENT_ID, doc_number)
    except ValueError as exc:
        raise Invalid("screening.doc_type", "Unknown document type", field="doc_type") from exc
    phone_text = fold(str(phone or ""))
    if returnee_class not in _CLASSES:
        raise Invalid("screening.class", "Unknown returnee class", field="returnee_class")
    return Entry(
        doc_type=str(doc_type or idnumbers.DocType.RESIDENT_ID),
        doc_number=facts.number,
        name=clean_text(name, field="name", limit=NAME_MAX, required=True),
        phone=phones.normalise_mobile(phone_text) if phone_text else "",
        address=clean_text(address, field="address", limit=ADDRESS_MAX),
        origin=clean_text(origin, field="origin", limit=PLACE_MAX),
        route=clean_text(route, field="route", limit=ROUTE_MAX),
        arrival_date=arrival_date,
        returnee_class=returnee_class,
        category=category,
    )


@dataclass(frozen=True, slots=True)
class Registered:
    """The registry's person with an arrival's document number, and their grid."""

    person_id: int
    grid_id: int | None
    path: str


def registered(doc_number: str) -> Registered | None:
    found = person_find_by_document(scope=Scope.system(), number=doc_number)
    if not found:
        return None
    return Registered(found[0].pk, found[0].grid_id, found[0].jurisdiction_path)


def place_with_registry(
    node_id: int, path: str, placed: bool, known: Registered | None, root: Jurisdiction
) -> tuple[int, str, bool]:
    """An address not resolved to a grid falls back on the registry's grid of the person, when
    that grid lies under the receiving root (where they live is where they stay)."""
    if placed or known is None or known.grid_id is None or not known.path.startswith(root.path):
        return node_id, path, placed
    return known.grid_id, known.path, True


@dataclass(frozen=True, slots=True)
class Intake:
    arrival: Arrival
    outcome: str  # "created" | "merged" | "unchanged"


def intake(
    *,
    entry: Entry,
    root: Jurisdiction,
    kind: str,
    source_name: str,
    source_key: str,
    in_force: BookInForce | None = None,
    take_over: bool = False,
    batch_id: int | None = None,
    row_number: int | None = None,
) -> Intake:
    """The one path from a named person to an arrival, for single intakes (self-report,
    canvass, assist items). An open arrival of the same person is merged into (a new source);
    with `take_over` (an assist request to another district) an open arrival outside `root`
    is closed as transferred and a new one opens under `root`. Work is handed out here."""
    in_force = in_force or rulebook_in_force()
    doc_bidx = protect.doc_index(entry.doc_number)
    now = clock.now()
    existing = (
        Arrival.objects.select_for_update()
        .filter(doc_bidx=doc_bidx, closed_at__isnull=True)
        .first()
    )
    if existing is not None and (not take_over or existing.jurisdiction_path.startswith(root.path)):
        return Intake(
            existing,
            _add_source(
                existing, kind, source_name, source_key, batch_id=batch_id, row_number=row_number
            ),
        )
    if existing is not None:
        transfer_out(existing, to=root)
    arrival = _new_arrival(entry, root=root, doc_bidx=doc_bidx, in_force=in_force, now=now)
    try:
        with transaction.atomic():
            arrival.save(force_insert=True)
    except IntegrityError:
        # A concurrent intake opened this person's arrival first: merge into theirs.
        theirs = Arrival.objects.select_for_update().get(doc_bidx=doc_bidx, closed_at__isnull=True)
        return Intake(
            theirs,
            _add_source(
                theirs, kind, source_name, source_key, batch_id=batch_id, row_number=row_number
            ),
        )
    ArrivalSource.objects.create(
        arrival=arrival,
        kind=kind,
        name=source_name[:100],
        key=source_key[:120],
        batch_id=batch_id,
        row_number=row_number,
        received_at=now,
    )
    tally_change(arrival, frozenset())
    hand_out(arrival)
    return Intake(arrival, "created")


def _new_arrival(
    entry: Entry, *, root: Jurisdiction, doc_bidx: str, in_force: BookInForce, now: dt.datetime
) -> Arrival:
    today = clock.local_date()
    c = rules.classify(
        in_force.book,
        origin=entry.origin,
        route=entry.route,
        returnee_class=entry.returnee_class,
        arrival_date=entry.arrival_date,
        today=today,
    )
    category = entry.category or (c.category.value if c.category else "")
    node, placed = placer_for(root).place(entry.address)
    known = registered(entry.doc_number)
    node_id, path, placed = place_with_registry(node.id, node.path, placed, known, root)
    return Arrival(
        doc_type=entry.doc_type,
        doc_number=entry.doc_number,
        doc_bidx=doc_bidx,
        name=entry.name,
        phone=entry.phone,
        address=entry.address,
        person_id=known.person_id if known else None,
        jurisdiction_id=node_id,
        jurisdiction_path=path,
        placed=placed,
        origin=entry.origin,
        route=entry.route,
        risk_codes=list(c.risk_codes),
        risk_level=c.risk_level.value if c.risk_level else "",
        category=category,
        measure=c.measure.value if c.measure and not entry.category else "",
        returnee_class=entry.returnee_class,
        arrival_date=entry.arrival_date,
        policy_version=in_force.version,
        due_at=rules.verify_deadline(in_force.book, level=c.risk_level, from_=now),
        created_at=now,
        updated_at=now,
    )


def _add_source(
    a: Arrival, kind: str, name: str, key: str, *, batch_id: int | None, row_number: int | None
) -> str:
    if ArrivalSource.objects.filter(arrival=a, key=key[:120]).exists():
        return "unchanged"
    ArrivalSource.objects.create(
        arrival=a,
        kind=kind,
        name=name[:100],
        key=key[:120],
        batch_id=batch_id,
        row_number=row_number,
        received_at=clock.now(),
    )
    before = rules.flags(facts_of(a))
    a.source_count = min(a.source_count + 1, 32767)
    a.updated_at = clock.now()
    a.save(update_fields=["source_count", "updated_at"])
    tally_change(a, before)
    return "merged"


def transfer_out(a: Arrival, *, to: Jurisdiction) -> None:
    """Close an open arrival whose person is now handled under another node."""
    before = rules.flags(facts_of(a))
    now = clock.now()
    a.status, a.closed_at, a.updated_at = ArrivalStatus.TRANSFERRED, now, now
    a.save(update_fields=["status", "closed_at", "updated_at"])
    tally_change(a, before)
    assignments.assignments_close_for_subject(
        actor=system_actor("screening"),
        subject_type=ARRIVAL_SUBJECT,
        subject_id=a.pk,
        outcome=f"transferred to {to.code}",
    )


def _title(a: Arrival) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return _("Verify arrival %(id)s (due %(due)s)") % {
            "id": a.pk,
            "due": f"{clock.to_local(a.due_at):%m-%d %H:%M}",
        }


def hand_out(a: Arrival) -> None:
    """The grid's (or the queue node's) verification duty for one arrival. The receiving
    territory's duty, created by the platform: the sender may not cover that node."""
    item = assignments.assignment_create(
        actor=system_actor("screening"),
        kind=VERIFY_KIND,
        jurisdiction=a.jurisdiction,
        title=_title(a),
        subject_type=ARRIVAL_SUBJECT,
        subject_id=a.pk,
        person_id=a.person_id,
        due_at=a.due_at,
        dedupe_key=f"{ARRIVAL_SUBJECT}:{a.pk}:{a.jurisdiction_path}",
        detail={"duty": Duty.VERIFY_PUSHED_ARRIVAL.value, "risk": a.risk_level},
    )
    if a.assignment_id != item.pk:
        Arrival.objects.filter(pk=a.pk).update(assignment_id=item.pk)
        a.assignment_id = item.pk


def hand_out_pending(*, limit: int = 500) -> int:
    """Hand out work for arrivals a bulk import committed without it (one transaction per
    chunk). Returns how many were handed out; the caller loops until 0."""
    done = 0
    with transaction.atomic():
        ids = list(
            Arrival.objects.filter(assignment_id__isnull=True, closed_at__isnull=True)
            .order_by("id")
            .values_list("id", flat=True)[:limit]
        )
        for a in Arrival.objects.filter(pk__in=ids).select_related("jurisdiction").order_by("id"):
            hand_out(a)
            done += 1
    return done


def node_of(code: str) -> Jurisdiction:
    from fangkong.jurisdictions.selectors import jurisdiction_get

    return jurisdiction_get(scope=Scope.system(), code=code)


def in_scope(actor: Actor, path: str, code: str = "screening.not_found") -> None:
    if not actor.scope.covers(path):
        raise NotFound(code, "Not found")


def home_node(actor: Actor) -> Jurisdiction:
    """The node an actor acts for: the top of its first subtree (the city for the system)."""
    paths = [p for p in actor.scope.paths if p != "/"]
    if not paths:
        return Jurisdiction.objects.filter(parent__isnull=True).order_by("code").first() or _none()
    code = paths[0].rstrip("/").rsplit("/", 1)[-1]
    return node_of(code)


def _none() -> Jurisdiction:
    raise NotFound("jurisdiction.not_found", "Jurisdiction not found")


def risk_level(value: str) -> RiskLevel | None:
    return RiskLevel(value) if value else None


def flags_before(rows: Iterable[Arrival]) -> dict[int, frozenset[str]]:
    return {a.pk: rules.flags(facts_of(a)) for a in rows}
