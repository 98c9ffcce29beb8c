"""`simulate city`: build a deterministic synthetic city through the bulk paths.

Order: plan in memory; write the tree and its posts (one transaction); write the
population in chunked transactions; write places and rooms; then, in a last transaction,
the pre-aggregated population counts and the one audit entry that summarises the run.
The same seed gives the same codes, names, ID numbers and phones.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

from django.db import transaction

from fangkong.audit.services import record
from fangkong.core.actor import system_actor
from fangkong.core.errors import Conflict
from fangkong.jurisdictions.models import Jurisdiction, Level, Post
from fangkong.places.models import Place, Room
from fangkong.simulation import names
from fangkong.simulation.bulk import tune_for_bulk
from fangkong.simulation.clear import city_clear, city_exists
from fangkong.simulation.identities import Phones
from fangkong.simulation.places import draft_places
from fangkong.simulation.population import write_population
from fangkong.simulation.residents import Residents
from fangkong.simulation.tree import CityPlan, NodePlan, plan_city

DEFAULT_CITY_NAME = "榕州市"  # fictitious; the codes follow the 4409 prefecture layout
BATCH = 2000

POST_OF_LEVEL = {
    Level.CITY: Post.Kind.CITY_LEAD,
    Level.DISTRICT: Post.Kind.DISTRICT_LEAD,
    Level.TOWN: Post.Kind.TOWN_LEAD,
    Level.VILLAGE: Post.Kind.COMMUNITY_SECRETARY,
    Level.GROUP: Post.Kind.GROUP_LEADER,
    Level.GRID: Post.Kind.GRID_WORKER,
}


def city_generate(
    *,
    population: int,
    seed: int,
    name: str = DEFAULT_CITY_NAME,
    code: str = "4409",
    replace: bool = False,
    chunk_size: int = 20_000,
    using: str = "default",
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Generate a city and return a summary of what was written.

    Raises Conflict when the database already holds a city and `replace` is false.
    """
    started = time.monotonic()
    say = progress or (lambda _message: None)
    if city_exists(using=using) and not replace:
        raise Conflict(
            "simulation.city_exists",
            "The database already holds a city; pass --replace to delete it and generate anew",
        )
    tune_for_bulk(using=using)
    plan = plan_city(population=population, seed=seed, name=name, code=code)
    say(f"planned {sum(1 for _ in plan.nodes())} jurisdictions, {len(plan.grids)} grids")
    phones = Phones(random.Random(f"fangkong-phones:{seed}"))

    with transaction.atomic(using=using):
        replaced = city_clear(using=using) if replace else {}
        _write_tree(plan, using=using)
        posts = _write_posts(plan, phones, using=using)
    say(f"wrote the tree and {posts} posts")

    residents = Residents(plan, phones)
    counts = write_population(
        plan,
        residents,
        chunk_size=chunk_size,
        using=using,
        progress=lambda n: say(f"persons: {n:,} / {population:,}"),
    )
    with transaction.atomic(using=using):
        places, rooms, by_kind = _write_places(plan, phones, using=using)
    say(f"wrote {places} places and {rooms} quarantine rooms")

    summary: dict[str, Any] = {
        "seed": seed,
        "city": plan.city.code,
        "name": name,
        "jurisdictions": {
            str(Level(level).label): len(nodes) for level, nodes in plan.levels.items()
        },
        "posts": posts,
        "persons": counts.persons,
        "households": counts.households,
        "resident_ids": counts.resident_ids,
        "other_documents": counts.other_documents,
        "with_phone": counts.with_phone,
        "places": places,
        "places_by_kind": by_kind,
        "rooms": rooms,
        "replaced": replaced,
    }
    with transaction.atomic(using=using):
        _write_aggregates(plan, using=using)
        summary["seconds"] = round(time.monotonic() - started, 1)
        record(
            actor=system_actor("simulate"),
            action="simulation.city_generate",
            target_type="jurisdictions.jurisdiction",
            target_id=str(plan.city.id),
            jurisdiction_path=plan.city.path,
            detail=summary,
        )
    return summary


def _write_tree(plan: CityPlan, *, using: str) -> None:
    for level in sorted(plan.levels):
        nodes = plan.levels[level]
        rows = [
            Jurisdiction(
                code=node.code,
                name=node.name,
                level=node.level,
                parent_id=node.parent.id if node.parent else None,
                path=node.path,
            )
            for node in nodes
        ]
        Jurisdiction.objects.using(using).bulk_create(rows, batch_size=BATCH)
        for node, row in zip(nodes, rows, strict=True):
            node.id = row.pk


def _write_posts(plan: CityPlan, phones: Phones, *, using: str) -> int:
    rng = random.Random(f"fangkong-posts:{plan.seed}")
    rows: list[Post] = []
    total = 0

    def post(node: NodePlan, kind: str, *, primary: bool = True) -> Post:
        assert node.id is not None
        sex = "M" if rng.random() < 0.55 else "F"
        return Post(
            jurisdiction_id=node.id,
            jurisdiction_path=node.path,
            kind=kind,
            holder_name=names.person_name(rng, sex),
            phone=phones.issue(),  # EncryptedTextField encrypts on the way in
            is_primary=primary,
        )

    for node in plan.nodes():
        rows.append(post(node, POST_OF_LEVEL[Level(node.level)]))
        if node.level == Level.GRID:
            # Building leaders (楼道长) or, in villages, household heads who relay notices.
            rows.extend(
                post(node, Post.Kind.BUILDING_LEADER, primary=False)
                for _ in range(rng.randint(2, 4))
            )
        if len(rows) >= BATCH * 5:
            Post.objects.using(using).bulk_create(rows, batch_size=BATCH)
            total += len(rows)
            rows.clear()
    Post.objects.using(using).bulk_create(rows, batch_size=BATCH)
    return total + len(rows)


def _write_places(plan: CityPlan, phones: Phones, *, using: str) -> tuple[int, int, dict[str, int]]:
    drafts = list(draft_places(plan, phones))
    rows = [
        Place(
            code=d.code,
            name=d.name,
            kind=d.kind,
            category=d.category,
            jurisdiction_id=_id(d.grid),
            jurisdiction_path=d.grid.path,
            address=d.address,
            capacity=d.capacity,
            responsible_name=d.responsible_name,
            responsible_phone=d.responsible_phone,
        )
        for d in drafts
    ]
    Place.objects.using(using).bulk_create(rows, batch_size=BATCH)
    rooms = [
        Room(
            facility_id=place.pk,
            jurisdiction_path=place.jurisdiction_path,
            number=number,
            floor=floor,
            beds=beds,
        )
        for draft, place in zip(drafts, rows, strict=True)
        for number, floor, beds in draft.rooms
    ]
    Room.objects.using(using).bulk_create(rooms, batch_size=BATCH)
    by_kind: dict[str, int] = {}
    for d in drafts:
        by_kind[d.kind] = by_kind.get(d.kind, 0) + 1
    return len(rows), len(rooms), by_kind


def _id(node: NodePlan) -> int:
    assert node.id is not None, "the tree is written first"
    return node.id


def _write_aggregates(plan: CityPlan, *, using: str) -> None:
    """Roll the grids' counts up the tree and store them on every node."""
    for level in sorted(plan.levels, reverse=True):
        if level == Level.GRID:
            continue
        for node in plan.levels[level]:
            node.population = sum(c.population for c in node.children)
            node.households = sum(c.households for c in node.children)
    rows = [
        Jurisdiction(id=node.id, population=node.population, households=node.households)
        for node in plan.nodes()
    ]
    Jurisdiction.objects.using(using).bulk_update(
        rows, ["population", "households"], batch_size=500
    )
