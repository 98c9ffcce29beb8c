"""Importing a jurisdiction tree (and the people in charge) from a csv or xlsx file.

The whole file is read and checked before anything is written; any invalid row means nothing
is written and every problem comes back with its row number, column and reason. The same file
twice creates nothing twice: existing nodes are matched by code (names updated where they
changed) and posts by node and kind (building leaders also by name). Rows may come in any
order; nodes are written level by level with bulk_create, so ~25,000 nodes take a few dozen
queries, not one per row. One audit entry records the import as a whole.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any, TypeVar

from django.db import transaction

from fangkong.audit.services import record
from fangkong.core.actor import Actor, require
from fangkong.core.errors import Invalid
from fangkong.core.perms import Perm
from fangkong.core.text import fold
from fangkong.core.uploads import CSV, XLSX, check_upload, table_rows
from fangkong.jurisdictions import rules
from fangkong.jurisdictions.models import Jurisdiction, Level, Post
from fangkong.jurisdictions.services import HOLDER_MAX, NAME_MAX

T = TypeVar("T")

BATCH = 1000
MAX_IMPORT_BYTES = 20 * 1024 * 1024
LOOKUP_CHUNK = 900  # stays under SQLite's bound-parameter limit on old builds

COLUMN_SYNONYMS: dict[str, tuple[str, ...]] = {
    "code": ("code", "编码", "代码", "区划代码", "行政区划代码", "统计用区划代码"),
    "name": ("name", "名称", "区划名称", "单位名称"),
    "level": ("level", "层级", "级别"),
    "parent_code": ("parent_code", "parent", "上级编码", "上级代码", "上级区划代码"),
    "post_kind": ("post_kind", "post", "岗位", "职务"),
    "holder_name": ("holder_name", "holder", "姓名", "负责人"),
    "phone": ("phone", "电话", "手机", "手机号", "联系电话"),
}
_HEADER = {fold(s).casefold(): col for col, names in COLUMN_SYNONYMS.items() for s in names}

_LEVEL_WORDS: dict[str, Level] = {
    **dict.fromkeys(("city", "市", "城市"), Level.CITY),
    **dict.fromkeys(("district", "county", "区", "县", "区县", "县区"), Level.DISTRICT),
    **dict.fromkeys(("town", "street", "乡", "镇", "街道", "乡镇", "乡镇街道"), Level.TOWN),
    **dict.fromkeys(("village", "community", "村", "社区", "村社区", "村居"), Level.VILLAGE),
    **dict.fromkeys(("group", "compound", "组", "小区", "村民小组", "小组"), Level.GROUP),
    **dict.fromkeys(("grid", "网格"), Level.GRID),
}
_POST_WORDS: dict[str, str] = {
    **{k.casefold(): k for k in Post.Kind.values},
    **dict.fromkeys(("市级负责人", "指挥长", "市指挥长"), Post.Kind.CITY_LEAD),
    **dict.fromkeys(("区县负责人", "区级负责人", "县级负责人"), Post.Kind.DISTRICT_LEAD),
    **dict.fromkeys(("乡镇负责人", "街道负责人", "镇长", "街道主任"), Post.Kind.TOWN_LEAD),
    **dict.fromkeys(("社区书记", "村书记", "村支书", "书记"), Post.Kind.COMMUNITY_SECRETARY),
    **dict.fromkeys(("村民组长", "组长", "小区负责人"), Post.Kind.GROUP_LEADER),
    **dict.fromkeys(("网格员",), Post.Kind.GRID_WORKER),
    **dict.fromkeys(("楼道长", "楼栋长"), Post.Kind.BUILDING_LEADER),
}


@dataclass(frozen=True, slots=True)
class RowError:
    row: int  # as a spreadsheet shows it: the header is row 1
    column: str
    reason: str


@dataclass(slots=True)
class ImportResult:
    created: int = 0
    renamed: int = 0
    unchanged: int = 0
    posts_created: int = 0
    posts_updated: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(slots=True)
class _Node:
    row: int
    code: str
    name: str
    level: Level


@dataclass(slots=True)
class _Post:
    row: int
    code: str
    kind: str
    holder_name: str
    phone: str


# --- reading --------------------------------------------------------------------------------


def read_table(data: bytes | IO[bytes], filename: str = "") -> Iterator[tuple[int, list[Any]]]:
    """(row number, cells) for every row of the file's first sheet, header included.

    The type comes from the content (core.uploads.check_upload), not from `filename`; formula
    cells come back as their text. Raises UploadRefused (an Invalid) for a refused file."""
    kind, checked = check_upload(data, max_bytes=MAX_IMPORT_BYTES, allowed={XLSX, CSV})
    return table_rows(checked, kind)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return fold(str(value))


# --- checking -------------------------------------------------------------------------------


def _header(cells: list[Any], errors: list[RowError]) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, raw in enumerate(cells):
        col = _HEADER.get(_cell(raw).casefold())
        if col is None:
            continue  # extra columns (remarks...) are ignored
        if col in columns:
            errors.append(RowError(1, col, f"column {col!r} appears twice"))
        columns[col] = index
    for required in ("code", "name"):
        if required not in columns:
            names = "/".join(COLUMN_SYNONYMS[required])
            errors.append(RowError(1, required, f"missing column ({names})"))
    return columns


def _level(text: str) -> Level:
    if text.isdigit() and int(text) in Level.values:
        return Level(int(text))
    level = _LEVEL_WORDS.get(text.casefold())
    if level is None:
        for choice in Level:
            if text.casefold() == str(choice.label).casefold():
                return choice
        raise Invalid("level.unknown", f"Unknown level {text!r}")
    return level


class _Row:
    """One data row's cells by column name, collecting its errors."""

    def __init__(
        self, number: int, cells: list[Any], columns: dict[str, int], errors: list[RowError]
    ) -> None:
        self.number, self.cells, self.columns, self.errors = number, cells, columns, errors

    def raw(self, col: str) -> Any:
        index = self.columns.get(col)
        return self.cells[index] if index is not None and index < len(self.cells) else None

    def text(self, col: str) -> str:
        return _cell(self.raw(col))

    def fail(self, col: str, reason: str) -> None:
        self.errors.append(RowError(self.number, col, reason))

    def check(self, col: str, test: Callable[[], object]) -> bool:
        """Run a validation; an Invalid becomes this row's error in `col`."""
        try:
            test()
        except Invalid as exc:
            self.fail(col, exc.message)
            return False
        return True


def _parse_node(row: _Row) -> tuple[str, Level, _Node | None] | None:
    """(code, level, node or None when only the node's other columns are bad), or None when
    the code itself is unusable."""
    raw = row.raw("code")
    try:
        code = rules.normalise_code(raw if raw is not None else "")
        if not code:
            raise Invalid("code.required", "code is required")
        level = rules.level_of(code)
    except Invalid as exc:
        row.fail("code", exc.message)
        return None
    ok = row.check("code", lambda: rules.validate_code(code))
    if level_text := row.text("level"):
        ok &= row.check("level", lambda: rules.validate_code(code, level=_level(level_text)))
    if parent_text := row.text("parent_code"):
        parent = rules.normalise_code(parent_text)
        ok &= row.check("parent_code", lambda: rules.validate_code(code, parent_code=parent))
    name = row.text("name")
    if not name:
        row.fail("name", "name is required")
        ok = False
    elif len(name) > NAME_MAX:
        row.fail("name", f"name is longer than {NAME_MAX} characters")
        ok = False
    return code, level, (_Node(row.number, code, name, level) if ok else None)


def _parse_post(row: _Row, code: str, level: Level) -> _Post | None:
    kind_text, holder, phone_raw = row.text("post_kind"), row.text("holder_name"), row.raw("phone")
    if not (kind_text or holder or _cell(phone_raw)):
        return None
    ok = True
    kind = _POST_WORDS.get(kind_text.casefold(), kind_text)
    try:
        if not kind_text:
            raise Invalid("post.required", "post is required with a holder or phone")
        rules.validate_post_kind(kind, level)
    except Invalid as exc:
        row.fail("post_kind", exc.message)
        ok = False
    if not holder:
        row.fail("holder_name", "holder name is required with a post")
        ok = False
    elif len(holder) > HOLDER_MAX:
        row.fail("holder_name", f"longer than {HOLDER_MAX} characters")
        ok = False
    try:
        phone = rules.normalise_contact_phone(phone_raw)
    except Invalid as exc:
        row.fail("phone", exc.message)
        ok = False
    return _Post(row.number, code, kind, holder, phone) if ok else None


def _chunks(items: list[T], size: int = LOOKUP_CHUNK) -> Iterable[list[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _existing(codes: Iterable[str]) -> dict[str, tuple[int, str]]:
    """code -> (id, name) of the nodes already in the database."""
    found: dict[str, tuple[int, str]] = {}
    for chunk in _chunks(sorted(set(codes))):
        for pk, code, name in Jurisdiction.objects.filter(code__in=chunk).values_list(
            "id", "code", "name"
        ):
            found[code] = (pk, name)
    return found


def _check(
    actor: Actor, rows: Iterator[tuple[int, list[Any]]], result: ImportResult
) -> tuple[dict[str, _Node], list[_Post], dict[str, tuple[int, str]]]:
    errors = result.errors
    header = next(rows, None)
    if header is None:
        errors.append(RowError(1, "", "the file is empty"))
        return {}, [], {}
    columns = _header(header[1], errors)
    if errors:
        return {}, [], {}
    nodes: dict[str, _Node] = {}
    posts: dict[tuple[str, str, str], _Post] = {}
    for number, cells in rows:
        if all(_cell(c) == "" for c in cells):
            continue
        row = _Row(number, cells, columns, errors)
        parsed = _parse_node(row)
        if parsed is None:
            continue
        code, level, node = parsed
        if not actor.scope.covers(rules.path_of(code)):
            row.fail("code", "outside your jurisdiction")
            continue
        post = _parse_post(row, code, level)
        if node is not None:
            seen = nodes.setdefault(code, node)
            if seen.name != node.name:
                row.fail("name", f"{code} is named differently in row {seen.row}")
        if post is not None:
            # Single-holder posts are keyed by kind alone: a second holder is a conflict.
            multi = post.kind in rules.MULTI_HOLDER_KINDS
            key = (code, post.kind, post.holder_name if multi else "")
            other = posts.setdefault(key, post)
            if (other.holder_name, other.phone) != (post.holder_name, post.phone):
                row.fail("holder_name", f"row {other.row} names another holder for this post")
    parents = {pc for n in nodes.values() if (pc := rules.parent_code_of(n.code)) is not None}
    existing = _existing(set(nodes) | (parents - set(nodes)))
    for node in sorted(nodes.values(), key=lambda n: n.row):
        parent = rules.parent_code_of(node.code)
        if parent is not None and parent not in nodes and parent not in existing:
            errors.append(
                RowError(node.row, "code", f"parent {parent} is neither in the file nor registered")
            )
    errors.sort(key=lambda e: (e.row, e.column))
    return nodes, list(posts.values()), existing


# --- writing --------------------------------------------------------------------------------


def _write_nodes(
    nodes: dict[str, _Node], existing: dict[str, tuple[int, str]], result: ImportResult
) -> dict[str, int]:
    ids = {code: pk for code, (pk, _name) in existing.items()}
    renames = [
        Jurisdiction(pk=existing[n.code][0], name=n.name)
        for n in nodes.values()
        if n.code in existing and existing[n.code][1] != n.name
    ]
    Jurisdiction.objects.bulk_update(renames, ["name"], batch_size=BATCH)
    result.renamed = len(renames)
    result.unchanged = sum(1 for c in nodes if c in existing) - len(renames)
    new = sorted((n for n in nodes.values() if n.code not in existing), key=lambda n: n.code)
    for level in Level:  # parents before children, whatever the file's order
        batch = [
            Jurisdiction(
                code=n.code,
                name=n.name,
                level=n.level,
                parent_id=ids[p] if (p := rules.parent_code_of(n.code)) else None,
                path=rules.path_of(n.code),
            )
            for n in new
            if n.level == level
        ]
        if not batch:
            continue
        made = Jurisdiction.objects.bulk_create(batch, batch_size=BATCH)
        if all(j.pk is not None for j in made):
            ids.update((j.code, j.pk) for j in made)
        else:  # pragma: no cover - databases without INSERT ... RETURNING
            ids.update((c, pk) for c, (pk, _n) in _existing(j.code for j in made).items())
        result.created += len(made)
    return ids


def _write_posts(posts: list[_Post], ids: dict[str, int], result: ImportResult) -> None:
    if not posts:
        return
    node_ids = sorted({ids[p.code] for p in posts})
    current: dict[tuple[int, str], list[Post]] = {}
    for chunk in _chunks(node_ids):
        for post in Post.objects.filter(jurisdiction_id__in=chunk).order_by("id"):
            current.setdefault((post.jurisdiction_id, post.kind), []).append(post)
    to_create: list[Post] = []
    to_update: list[Post] = []
    for p in posts:
        node_id = ids[p.code]
        held = current.get((node_id, p.kind), [])
        if p.kind in rules.MULTI_HOLDER_KINDS:
            match = next((h for h in held if h.holder_name == p.holder_name), None)
        else:
            match = next((h for h in held if h.is_primary), None)
        if match is None:
            post = Post(
                jurisdiction_id=node_id,
                jurisdiction_path=rules.path_of(p.code),
                kind=p.kind,
                holder_name=p.holder_name,
                phone=p.phone,
                is_primary=True,
            )
            to_create.append(post)
            current.setdefault((node_id, p.kind), []).append(post)
        elif (match.holder_name, match.phone) != (p.holder_name, p.phone):
            match.holder_name, match.phone = p.holder_name, p.phone
            to_update.append(match)
    Post.objects.bulk_create(to_create, batch_size=BATCH)
    Post.objects.bulk_update(to_update, ["holder_name", "phone"], batch_size=BATCH)
    result.posts_created, result.posts_updated = len(to_create), len(to_update)


def tree_import(*, actor: Actor, data: bytes | IO[bytes], filename: str) -> ImportResult:
    """Import a jurisdiction tree file (csv or xlsx, told apart by content). Nothing is written
    when any row is invalid; read `result.errors`. Raises NotAllowed, UploadRefused (a file
    refused or unreadable: core.uploads)."""
    require(actor, Perm.JURISDICTION_WRITE)
    result = ImportResult()
    nodes, posts, existing = _check(actor, read_table(data, filename), result)
    if not result.ok:
        return result
    with transaction.atomic():
        ids = _write_nodes(nodes, existing, result)
        _write_posts(posts, ids, result)
        record(
            actor=actor,
            action="jurisdiction.import",
            target_type="jurisdictions.jurisdiction",
            jurisdiction_path=min((rules.path_of(c) for c in nodes), key=len, default=""),
            detail={
                "file": filename[:200],
                "rows": len(nodes),
                "created": result.created,
                "renamed": result.renamed,
                "posts_created": result.posts_created,
                "posts_updated": result.posts_updated,
            },
        )
    return result
