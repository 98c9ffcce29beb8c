"""Importing an employer's member list (csv or xlsx) into its key population.

Every file passes core.uploads first. The whole file is read and checked before anything is
written: any invalid row means no member, person or test is written, and every problem comes
back with its row number (as a spreadsheet shows it: the header is row 1), column and reason;
the attempt is kept (MemberImport) so the problems can be downloaded as an xlsx report.
Reasons never quote a cell's value: the report is a file that travels.

The same file twice creates nothing twice: members are matched by employer and person (the
person by document number, through its blind index), a sampling day is one test per member
and day. With `replace`, members of the employer missing from the file leave the list.
Persons not yet in the registry are registered (people.services) in the home grid the row
names, else at the employer's node; the registration runs as the system on the importer's
behalf, because an employer's account holds no right over the registry itself.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from django.db import transaction
from django.utils.translation import pgettext, pgettext_lazy

from fangkong.audit.services import record
from fangkong.core import clock, idnumbers, phones
from fangkong.core.actor import Actor, system_actor
from fangkong.core.errors import Invalid, NotFound
from fangkong.core.text import fold
from fangkong.core.uploads import CSV, XLSX, check_upload, table_rows
from fangkong.jurisdictions.models import Jurisdiction, Level
from fangkong.key_populations import access, rules
from fangkong.key_populations.models import Employer, Member, MemberImport, MemberTest
from fangkong.key_populations.services import (
    EARLIEST_TEST,
    NAME_MAX,
    close_work,
    employer_counts_refresh,
    keypop_rules,
)
from fangkong.people import protect
from fangkong.people.models import Person
from fangkong.people.services import person_register
from fangkong.policy.sections.key_populations import GroupKind, KeyPopulationRules

MAX_IMPORT_BYTES = 10 * 1024 * 1024
MAX_ROWS = 20_000
MAX_KEPT_ERRORS = 2_000
LOOKUP_CHUNK = 900

COLUMN_SYNONYMS: dict[str, tuple[str, ...]] = {
    "name": ("name", "姓名"),
    "doc_type": ("doc_type", "证件类型"),
    "doc_number": ("doc_number", "证件号码", "证件号", "身份证号", "身份证号码"),
    "phone": ("phone", "手机号", "手机", "手机号码", "联系电话"),
    "group": ("group", "人群类别", "重点人群类别", "类别"),
    "home_grid": ("home_grid", "居住网格编码", "居住网格", "网格编码"),
    "sampled_on": ("sampled_on", "采样日期", "最近采样日期", "检测日期"),
}
REQUIRED = ("name", "doc_number")
_HEADER = {fold(s).casefold(): col for col, names in COLUMN_SYNONYMS.items() for s in names}

_DOC_WORDS: dict[str, str] = {
    **{d.value: d.value for d in idnumbers.DocType},
    **dict.fromkeys(("居民身份证", "身份证"), idnumbers.DocType.RESIDENT_ID.value),
    **dict.fromkeys(("港澳台居民居住证", "居住证"), idnumbers.DocType.HMT_PERMIT.value),
    **dict.fromkeys(("外国人永久居留身份证", "永居证"), idnumbers.DocType.FOREIGNER_PR.value),
    **dict.fromkeys(("护照",), idnumbers.DocType.PASSPORT.value),
    **dict.fromkeys(("其他", "其它"), idnumbers.DocType.OTHER.value),
}
_GROUP_WORDS: dict[str, str] = {
    **{g.value: g.value for g in GroupKind},
    **dict.fromkeys(("国际邮件", "快递", "国际邮件快递", "邮政快递"), GroupKind.MAIL_EXPRESS.value),
    **dict.fromkeys(("冷链", "冷链从业人员"), GroupKind.COLD_CHAIN.value),
    **dict.fromkeys(("口岸", "机场", "口岸机场", "港口"), GroupKind.PORT_AIRPORT.value),
    **dict.fromkeys(("医务人员", "医护人员", "医务"), GroupKind.MEDICAL.value),
    **dict.fromkeys(("隔离场所工作人员", "隔离点工作人员"), GroupKind.QUARANTINE_STAFF.value),
    **dict.fromkeys(("司机", "驾驶员", "货车司机"), GroupKind.DRIVER.value),
}


_EXCEL = pgettext_lazy(
    "member list",
    "Excel stored the number as a figure and lost digits; format the column as text",
)


def _id_reason(code: str) -> str:
    """The reason for an ID-number problem, by code (the core's messages may quote digits)."""
    reasons = {
        "id.empty": pgettext("member list", "document number is required"),
        "id.excel_number": str(_EXCEL),
        "id.excel_zeroed": str(_EXCEL),
        "id.length": pgettext("member list", "an ID number has 18 characters"),
        "id.characters": pgettext("member list", "an ID number is 17 digits then a digit or X"),
        "id.birth_date": pgettext("member list", "the ID number carries an impossible birth date"),
        "id.checksum": pgettext("member list", "the ID number fails its check digit"),
        "id.wrong_type": pgettext("member list", "the number does not match the document type"),
    }
    return reasons.get(code, pgettext("member list", "the number does not fit the document type"))


@dataclass(frozen=True, slots=True)
class RowError:
    row: int
    column: str
    reason: str


@dataclass(slots=True)
class _Row:
    row: int
    name: str
    doc_type: str
    number: str
    phone: str
    group: str
    home_grid: str
    sampled_on: dt.date | None


@dataclass(slots=True)
class _Checked:
    rows: list[_Row] = field(default_factory=list)  # the valid rows
    grid_refs: list[tuple[int, str]] = field(default_factory=list)  # (row, grid code), all rows
    errors: list[RowError] = field(default_factory=list)
    total: int = 0


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return fold(str(value))


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _cell(value).replace("/", "-").replace(".", "-")
    text = text.replace("年", "-").replace("月", "-").replace("日", "")
    try:
        year, month, day = (int(p) for p in text.split("-"))
        return dt.date(year, month, day)
    except ValueError:
        raise Invalid(
            "keypop.date", pgettext("member list", "not a date (write YYYY-MM-DD)")
        ) from None


def _header(cells: list[Any], errors: list[RowError]) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, raw in enumerate(cells):
        col = _HEADER.get(_cell(raw).casefold())
        if col is None:
            continue  # remarks and other extra columns are ignored
        if col in columns:
            errors.append(RowError(1, col, pgettext("member list", "the column appears twice")))
        columns[col] = index
    for required in REQUIRED:
        if required not in columns:
            names = "/".join(COLUMN_SYNONYMS[required])
            errors.append(
                RowError(
                    1,
                    required,
                    pgettext("member list", "missing column (%(names)s)") % {"names": names},
                )
            )
    return columns


class _Cells:
    """One data row's cells by column name, collecting its errors."""

    def __init__(
        self, number: int, cells: list[Any], columns: dict[str, int], errors: list[RowError]
    ) -> None:
        self.number, self.cells, self.columns, self.errors = number, cells, columns, errors
        self.failed = False

    def raw(self, col: str) -> Any:
        i = self.columns.get(col)
        return self.cells[i] if i is not None and i < len(self.cells) else None

    def text(self, col: str) -> str:
        return _cell(self.raw(col))

    def fail(self, col: str, reason: str) -> None:
        self.errors.append(RowError(self.number, col, reason))
        self.failed = True


def _check_identity(c: _Cells) -> tuple[str, str, str]:
    """(name, document type, normalised number) of a row; problems go to the row."""
    name = " ".join(c.text("name").split())
    if not name:
        c.fail("name", pgettext("member list", "name is required"))
    elif len(name) > NAME_MAX:
        c.fail(
            "name",
            pgettext("member list", "name is longer than %(max)s characters") % {"max": NAME_MAX},
        )
    doc_text = c.text("doc_type")
    doc_type = _DOC_WORDS.get(doc_text.casefold(), "") if doc_text else "resident_id"
    number = ""
    if not doc_type:
        c.fail("doc_type", pgettext("member list", "unknown document type"))
    else:
        try:
            number = idnumbers.validate_document(doc_type, c.raw("doc_number")).number
        except Invalid as exc:
            c.fail("doc_number", _id_reason(exc.code))
    return name, doc_type, number


def _check_sampled_on(c: _Cells, today: dt.date) -> dt.date | None:
    if not c.text("sampled_on"):
        return None
    try:
        day = _date(c.raw("sampled_on"))
    except Invalid as exc:
        c.fail("sampled_on", exc.message)
        return None
    if day > today:
        c.fail("sampled_on", pgettext("member list", "the sampling day is in the future"))
    elif day < EARLIEST_TEST:
        c.fail("sampled_on", pgettext("member list", "the sampling day is before 2020"))
    return day


def _check_row(c: _Cells, employer: Employer, today: dt.date) -> _Row:
    """The row's values; `c.failed` says whether any of them was refused."""
    name, doc_type, number = _check_identity(c)
    phone = ""
    if c.text("phone"):
        try:
            phone = phones.normalise_mobile(c.raw("phone"))
        except Invalid:
            c.fail("phone", pgettext("member list", "not an 11-digit mainland mobile number"))
    group_text = c.text("group")
    group = _GROUP_WORDS.get(group_text.casefold(), "") if group_text else employer.group_kind
    if not group:
        c.fail("group", pgettext("member list", "unknown key-population group"))
    home_grid = c.text("home_grid")
    if home_grid and (not home_grid.isdigit() or len(home_grid) != 18):
        c.fail("home_grid", pgettext("member list", "a grid code has 18 digits"))
    sampled_on = _check_sampled_on(c, today)
    return _Row(c.number, name, doc_type, number, phone, group, home_grid, sampled_on)


def _check(rows: Iterator[tuple[int, list[Any]]], employer: Employer, today: dt.date) -> _Checked:
    out = _Checked()
    header = next(rows, None)
    if header is None:
        out.errors.append(RowError(1, "", pgettext("member list", "the file is empty")))
        return out
    columns = _header(header[1], out.errors)
    if out.errors:
        return out
    seen: dict[str, int] = {}
    for number, cells in rows:
        if all(_cell(c) == "" for c in cells):
            continue
        out.total += 1
        if out.total > MAX_ROWS:
            out.errors.append(
                RowError(
                    number,
                    "",
                    pgettext("member list", "too many rows (at most %(max)s)") % {"max": MAX_ROWS},
                )
            )
            break
        cells_ = _Cells(number, cells, columns, out.errors)
        row = _check_row(cells_, employer, today)
        if row.home_grid and not any(
            e.row == number and e.column == "home_grid" for e in out.errors
        ):
            out.grid_refs.append((number, row.home_grid))
        if row.number:  # a usable number: a second row with it is a duplicate, even if bad
            first = seen.setdefault(row.number, row.row)
            if first != row.row:
                cells_.fail(
                    "doc_number",
                    pgettext("member list", "the same person is in row %(row)s") % {"row": first},
                )
        if not cells_.failed:
            out.rows.append(row)
    if out.total == 0 and not out.errors:
        out.errors.append(RowError(2, "", pgettext("member list", "the file has no member rows")))
    return out


def _chunks(items: list[Any], size: int = LOOKUP_CHUNK) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _grids(checked: _Checked) -> dict[str, Jurisdiction]:
    codes = sorted({code for _row, code in checked.grid_refs})
    found: dict[str, Jurisdiction] = {}
    for chunk in _chunks(codes):
        found.update((j.code, j) for j in Jurisdiction.objects.filter(code__in=chunk))
    for row, code in checked.grid_refs:
        node = found.get(code)
        if node is None:
            checked.errors.append(
                RowError(row, "home_grid", pgettext("member list", "no grid has this code"))
            )
        elif node.level != Level.GRID:
            checked.errors.append(
                RowError(row, "home_grid", pgettext("member list", "the code is not a grid's"))
            )
    return found


def _persons(rows: list[_Row]) -> dict[str, int]:
    """document blind index -> active person id, for the rows' numbers."""
    keys = sorted({protect.doc_index(r.number) for r in rows})
    found: dict[str, int] = {}
    for chunk in _chunks(keys):
        found.update(
            Person.objects.filter(doc_bidx__in=chunk, merged_into__isnull=True).values_list(
                "doc_bidx", "pk"
            )
        )
    return found


@dataclass(frozen=True, slots=True)
class _Ctx:
    actor: Actor
    employer: Employer
    filename: str
    digest: str
    replace: bool
    today: dt.date
    now: dt.datetime
    version: int
    section: KeyPopulationRules

    def attempt(self, checked: _Checked, outcome: str, **counts: int) -> MemberImport:
        return MemberImport.objects.create(
            employer=self.employer,
            jurisdiction_path=self.employer.jurisdiction_path,
            filename=self.filename[:200],
            sha256=self.digest,
            replace=self.replace,
            outcome=outcome,
            rows=checked.total,
            errors=[[e.row, e.column, e.reason] for e in checked.errors[:MAX_KEPT_ERRORS]],
            error_count=len(checked.errors),
            by=self.actor.label[:150],
            at=self.now,
            **counts,
        )


def _refused(ctx: _Ctx, checked: _Checked) -> MemberImport:
    checked.errors.sort(key=lambda e: (e.row, e.column))
    with transaction.atomic():
        attempt = ctx.attempt(checked, MemberImport.Outcome.REFUSED)
        record(
            actor=ctx.actor,
            action="keypop.import",
            target=attempt,
            outcome="refused",
            detail={
                "employer_id": ctx.employer.pk,
                "rows": checked.total,
                "errors": len(checked.errors),
            },
        )
    return attempt


def member_import(
    *,
    actor: Actor,
    employer: Employer,
    data: bytes | IO[bytes],
    filename: str,
    replace: bool = False,
) -> MemberImport:
    """Import an employer's member list; returns the attempt (outcome done or refused, with
    `errors`). Raises NotAllowed, NotFound (employer out of scope), UploadRefused (a file
    refused or unreadable: core.uploads), Conflict (no rulebook in force)."""
    access.require_maintain(actor, employer.pk)
    if not actor.scope.covers(employer.jurisdiction_path):
        raise NotFound("keypop.employer_not_found", "Employer not found")
    kind, checked_bytes = check_upload(data, max_bytes=MAX_IMPORT_BYTES, allowed={XLSX, CSV})
    version, section = keypop_rules()
    ctx = _Ctx(
        actor=actor,
        employer=employer,
        filename=filename,
        digest=hashlib.sha256(checked_bytes).hexdigest(),
        replace=replace,
        today=clock.local_date(),
        now=clock.now(),
        version=version,
        section=section,
    )
    checked = _check(table_rows(checked_bytes, kind), employer, ctx.today)
    grids = _grids(checked)
    if checked.errors:
        return _refused(ctx, checked)
    with transaction.atomic():
        return _write(ctx, checked, grids)


def _resolve_persons(
    ctx: _Ctx, rows: list[_Row], grids: dict[str, Jurisdiction]
) -> tuple[dict[int, int], int]:
    """(row -> person id, persons registered): found by document number, else registered."""
    persons = _persons(rows)
    registrar = system_actor(f"keypop.import:{ctx.actor.label}"[:150])
    registered = 0
    person_of: dict[int, int] = {}
    for row in rows:
        key = protect.doc_index(row.number)
        pid = persons.get(key)
        if pid is None:
            grid = grids.get(row.home_grid) if row.home_grid else None
            person, created = person_register(
                actor=registrar,
                doc_type=row.doc_type,
                doc_number=row.number,
                name=row.name,
                phone=row.phone,
                grid=grid,
                jurisdiction=None if grid is not None else ctx.employer.jurisdiction,
            )
            pid = persons[key] = person.pk
            registered += int(created)
        person_of[row.row] = pid
    return person_of, registered


@dataclass(slots=True)
class _Upsert:
    members: dict[int, Member]  # person id -> member (existing and new)
    created: set[int]  # member ids
    changed: set[int]
    unchanged: int


def _upsert_members(ctx: _Ctx, rows: list[_Row], person_of: dict[int, int]) -> _Upsert:
    existing: dict[int, Member] = {}
    for chunk in _chunks(sorted(set(person_of.values()))):
        existing.update(
            (m.person_id, m)
            for m in Member.objects.select_for_update().filter(
                employer=ctx.employer, person_id__in=chunk
            )
        )
    new: list[Member] = []
    changed: set[int] = set()
    unchanged = 0
    for row in rows:
        pid = person_of[row.row]
        member = existing.get(pid)
        if member is None:
            member = existing[pid] = Member(
                employer=ctx.employer,
                person_id=pid,
                group_kind=row.group,
                jurisdiction_path=ctx.employer.jurisdiction_path,
                joined_on=ctx.today,
                next_due_on=ctx.today,
                status=rules.MemberStatus.DUE,
                created_at=ctx.now,
                updated_at=ctx.now,
            )
            new.append(member)
        elif not member.active or member.group_kind != row.group:
            member.active, member.left_on, member.group_kind = True, None, row.group
            member.updated_at = ctx.now
            changed.add(member.pk)
        else:
            unchanged += 1
    Member.objects.bulk_create(new, batch_size=1000)
    if any(m.pk is None for m in new):  # pragma: no cover - a database without RETURNING
        ids = dict(
            Member.objects.filter(
                employer=ctx.employer, person_id__in=[m.person_id for m in new]
            ).values_list("person_id", "pk")
        )
        for m in new:
            m.pk = ids[m.person_id]
    return _Upsert(existing, {m.pk for m in new}, changed, unchanged)


def _refresh_due(ctx: _Ctx, touched: list[Member]) -> None:
    """Due day and status of the members the file changed, by the rules (as the recompute)."""
    for m in touched:
        interval = rules.interval_days(ctx.section, m.group_kind)
        m.next_due_on = rules.next_due(
            joined_on=m.joined_on, last_tested_on=m.last_tested_on, interval=interval
        )
        m.status = rules.status_on(
            due_on=m.next_due_on, today=ctx.today, grace_days=ctx.section.grace_days
        )
    fields = ["active", "left_on", "group_kind", "last_tested_on", "next_due_on", "status"]
    Member.objects.bulk_update(touched, [*fields, "updated_at"], batch_size=1000)
    tested = [m for m in touched if m.status != rules.MemberStatus.OVERDUE and m.work_due_on]
    close_work(members=tested, outcome="tested")


def _write(ctx: _Ctx, checked: _Checked, grids: dict[str, Jurisdiction]) -> MemberImport:
    person_of, registered = _resolve_persons(ctx, checked.rows, grids)
    upsert = _upsert_members(ctx, checked.rows, person_of)
    recorded, tests = _tests(ctx.actor, checked.rows, person_of, upsert.members, ctx.now)
    moved = upsert.created | upsert.changed | tests
    _refresh_due(ctx, [m for m in upsert.members.values() if m.pk in moved])
    kept = set(person_of.values())
    left = _leave_missing(ctx.employer, kept, ctx.today, ctx.now) if ctx.replace else 0
    employer_counts_refresh(employer_ids=[ctx.employer.pk])
    counts = {
        "created": len(upsert.created),
        "updated": len(upsert.changed),
        "unchanged": upsert.unchanged,
        "left": left,
        "tests": recorded,
        "persons_registered": registered,
    }
    attempt = ctx.attempt(checked, MemberImport.Outcome.DONE, **counts)
    record(
        actor=ctx.actor,
        action="keypop.import",
        target=attempt,
        detail={
            "employer_id": ctx.employer.pk,
            "rows": checked.total,
            **counts,
            "policy_version": ctx.version,
        },
    )
    return attempt


def _tests(
    actor: Actor,
    rows: list[_Row],
    person_of: dict[int, int],
    members: dict[int, Member],
    now: dt.datetime,
) -> tuple[int, set[int]]:
    """Record the rows' sampling days (one per member and day); returns (tests recorded,
    members whose last test day moved)."""
    wanted = [(members[person_of[r.row]], r.sampled_on) for r in rows if r.sampled_on is not None]
    if not wanted:
        return 0, set()
    ids = [m.pk for m, _d in wanted]
    have: set[tuple[int, dt.date]] = set()
    for chunk in _chunks(ids):
        have.update(
            MemberTest.objects.filter(member_id__in=chunk).values_list("member_id", "sampled_on")
        )
    new = [
        MemberTest(
            member=m,
            jurisdiction_path=m.jurisdiction_path,
            sampled_on=d,
            source=MemberTest.Source.IMPORT,
            recorded_by=actor.label[:150],
            recorded_at=now,
        )
        for m, d in wanted
        if (m.pk, d) not in have
    ]
    MemberTest.objects.bulk_create(new, batch_size=1000)
    moved: set[int] = set()
    for m, d in wanted:
        later = rules.later(m.last_tested_on, d)
        if later != m.last_tested_on:
            m.last_tested_on = later
            moved.add(m.pk)
    return len(new), moved


def _leave_missing(employer: Employer, kept: set[int], today: dt.date, now: dt.datetime) -> int:
    gone = [
        m
        for m in Member.objects.filter(employer=employer, active=True).only(
            "pk", "person_id", "work_due_on"
        )
        if m.person_id not in kept
    ]
    if not gone:
        return 0
    for chunk in _chunks([m.pk for m in gone]):
        Member.objects.filter(pk__in=chunk).update(active=False, left_on=today, updated_at=now)
    close_work(members=gone, outcome="left the key-population list")
    return len(gone)
