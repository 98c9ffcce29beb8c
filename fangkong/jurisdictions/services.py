"""Writes to the jurisdiction tree: nodes, posts, and the pre-aggregated population figures."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection, transaction

from fangkong.audit.services import record
from fangkong.core.actor import Actor, require
from fangkong.core.errors import Conflict, Invalid, NotFound
from fangkong.core.perms import Perm
from fangkong.core.text import fold
from fangkong.jurisdictions import rules
from fangkong.jurisdictions.models import Jurisdiction, Level, Post

NAME_MAX = Jurisdiction._meta.get_field("name").max_length or 100
HOLDER_MAX = Post._meta.get_field("holder_name").max_length or 64


def _clean_name(raw: str, *, field: str, max_length: int) -> str:
    name = fold(raw)
    if not name:
        raise Invalid(f"{field}.required", f"{field} is required")
    if len(name) > max_length:
        raise Invalid(f"{field}.too_long", f"{field} is longer than {max_length} characters")
    return name


@transaction.atomic
def jurisdiction_create(*, actor: Actor, code: str, name: str) -> Jurisdiction:
    """Add a node under its parent (found from the code). Raises Invalid, NotAllowed, NotFound
    (parent missing or outside the actor's scope), Conflict (code exists)."""
    require(actor, Perm.JURISDICTION_WRITE)
    code = rules.normalise_code(code)
    level = rules.validate_code(code)
    path = rules.path_of(code)
    if not actor.scope.covers(path):
        # Outside the actor's subtrees the parent is "missing", whether or not it exists.
        raise NotFound("jurisdiction.not_found", "Parent jurisdiction not found")
    name = _clean_name(name, field="name", max_length=NAME_MAX)
    parent_code = rules.parent_code_of(code)
    parent = None
    if parent_code is not None:
        parent = Jurisdiction.objects.filter(code=parent_code).first()
        if parent is None:
            raise NotFound("jurisdiction.not_found", "Parent jurisdiction not found")
    if Jurisdiction.objects.filter(code=code).exists():
        raise Conflict("jurisdiction.exists", f"Jurisdiction {code} already exists")
    node = Jurisdiction.objects.create(code=code, name=name, level=level, parent=parent, path=path)
    record(actor=actor, action="jurisdiction.create", target=node, detail={"code": code})
    return node


@transaction.atomic
def post_assign(
    *,
    actor: Actor,
    node: Jurisdiction,
    kind: str,
    holder_name: str,
    phone: str = "",
    account_id: int | None = None,
) -> Post:
    """Put a person in charge at a node. For single-holder posts (every kind but building
    leader) this replaces the current holder; building leaders are added (or updated by name).
    Raises Invalid, NotAllowed, NotFound (node outside the actor's scope)."""
    require(actor, Perm.JURISDICTION_WRITE)
    if not actor.scope.covers(node.path):
        raise NotFound("jurisdiction.not_found", "Jurisdiction not found")
    rules.validate_post_kind(kind, node.level)
    holder_name = _clean_name(holder_name, field="holder_name", max_length=HOLDER_MAX)
    phone = rules.normalise_contact_phone(phone)
    existing = Post.objects.select_for_update().filter(jurisdiction=node, kind=kind)
    if kind in rules.MULTI_HOLDER_KINDS:
        existing = existing.filter(holder_name=holder_name)
    else:
        existing = existing.filter(is_primary=True)
    post = existing.order_by("id").first()
    replaced = post is not None and post.holder_name != holder_name
    if post is None:
        post = Post(jurisdiction=node, jurisdiction_path=node.path, kind=kind, is_primary=True)
    post.holder_name, post.phone, post.account_id = holder_name, phone, account_id
    post.save()
    record(
        actor=actor,
        action="jurisdiction.post_assign",
        target=post,
        detail={"node": node.code, "kind": kind, "replaced": replaced},
    )
    return post


@dataclass(frozen=True, slots=True)
class PopulationTotals:
    population: int
    households: int


# The people app sits above this one (import-linter: jurisdictions must not import
# fangkong.people), so the refresh reads its tables by name. If people renames a table or
# the columns grid_id / merged_into_id, the refresh test (which writes rows through the
# people models) fails.
_PERSON_TABLE = "people_person"
_HOUSEHOLD_TABLE = "people_household"


@transaction.atomic
def population_refresh(*, actor: Actor) -> PopulationTotals:
    """Recompute Jurisdiction.population and .households for the whole tree, in SQL.

    Each node first gets the persons (not merged into another record) and households whose
    grid is that node; then, one level at a time from the grids up, each node adds its
    children's totals. One GROUP BY over each people table, and one UPDATE per level: no
    Python loop over persons or nodes. Raises NotAllowed.
    """
    require(actor, Perm.JURISDICTION_WRITE)
    jur = connection.ops.quote_name(Jurisdiction._meta.db_table)
    person = connection.ops.quote_name(_PERSON_TABLE)
    household = connection.ops.quote_name(_HOUSEHOLD_TABLE)
    with connection.cursor() as cur:
        cur.execute(f"UPDATE {jur} SET population = 0, households = 0")  # noqa: S608
        # UPDATE ... FROM (PostgreSQL; SQLite >= 3.33) joins one aggregate per table.
        cur.execute(
            f"UPDATE {jur} SET population = agg.n FROM ("  # noqa: S608
            f"SELECT grid_id, COUNT(*) AS n FROM {person} "
            "WHERE merged_into_id IS NULL AND grid_id IS NOT NULL GROUP BY grid_id"
            f") AS agg WHERE {jur}.id = agg.grid_id"
        )
        cur.execute(
            f"UPDATE {jur} SET households = agg.n FROM ("  # noqa: S608
            f"SELECT grid_id, COUNT(*) AS n FROM {household} GROUP BY grid_id"
            f") AS agg WHERE {jur}.id = agg.grid_id"
        )
        for level in range(Level.GRID - 1, Level.CITY - 1, -1):
            cur.execute(
                f"UPDATE {jur} SET population = {jur}.population + agg.p, "  # noqa: S608
                f"households = {jur}.households + agg.h FROM ("
                f"SELECT parent_id, SUM(population) AS p, SUM(households) AS h FROM {jur} "
                "WHERE level = %s AND parent_id IS NOT NULL GROUP BY parent_id"
                f") AS agg WHERE {jur}.id = agg.parent_id",
                [level + 1],
            )
        cur.execute(
            f"SELECT COALESCE(SUM(population), 0), COALESCE(SUM(households), 0) "  # noqa: S608
            f"FROM {jur} WHERE parent_id IS NULL"
        )
        row = cur.fetchone()
    totals = PopulationTotals(population=int(row[0]), households=int(row[1]))
    record(
        actor=actor,
        action="jurisdiction.population_refresh",
        target_type="jurisdictions.jurisdiction",
        jurisdiction_path="/",
        detail={"population": totals.population, "households": totals.households},
    )
    return totals
