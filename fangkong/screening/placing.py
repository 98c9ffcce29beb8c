"""Address -> grid (属地): find where an arrival stays from the address text.

Addresses as lists give them name the district, town and community (金岭区榕湾街道东华社区
12栋...), rarely the grid. The placer walks the tree under a root by the names it finds in the
text; it places at a grid when the walk reaches one, or reaches a node with a single grid below
it. Otherwise the arrival waits at the deepest node found, in that town's queue to be placed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from django.db.models import Count, Max

from fangkong.core.scope import Scope, within
from fangkong.core.text import squeeze
from fangkong.jurisdictions.models import Jurisdiction, Level

_CACHE_SECONDS = 300.0
_cache: dict[tuple[int, str], tuple[float, tuple[int, int | None], Placer]] = {}


@dataclass(frozen=True, slots=True)
class Node:
    id: int
    code: str
    name: str
    level: int
    path: str


@dataclass(slots=True)
class Placer:
    root: Node
    children: dict[int, list[Node]] = field(default_factory=dict)
    grids_below: dict[int, list[Node]] = field(default_factory=dict)
    by_id: dict[int, Node] = field(default_factory=dict)
    _names: dict[int, tuple[Names, Names]] = field(default_factory=dict)

    def place(self, address: str) -> tuple[Node, bool]:
        """(node, placed): the grid and True, or the deepest node found and False."""
        text = squeeze(address or "")
        node = self.root
        while node.level < _GRID:
            kids, grandkids = self._below(node.id)
            hits = [hit for hit in kids if hit[0] in text]
            if not hits:
                # Addresses often leave out one level (南海街道海滨社区 without the district).
                hits = [hit for hit in grandkids if hit[0] in text]
            if not hits:
                break
            # The longest name found; the first of them on a tie.
            node = hits[0][1] if len(hits) == 1 else max(hits, key=_name_length)[1]
        if node.level == _GRID:
            return node, True
        grids = self.grids_below.get(node.id, [])
        if len(grids) == 1:
            return grids[0], True
        return node, False

    def _below(self, node_id: int) -> tuple[Names, Names]:
        """The names of a node's children and grandchildren, each name once (with the first
        node bearing it: nodes of one name are found together, and the first wins)."""
        found = self._names.get(node_id)
        if found is None:
            kids = self.children.get(node_id, [])
            grandkids = [g for k in kids for g in self.children.get(k.id, [])]
            found = (_distinct(kids), _distinct(grandkids))
            self._names[node_id] = found
        return found


Names = tuple[tuple[str, Node], ...]
_GRID = int(Level.GRID)  # an enum member's lookup costs more than the comparison


def _name_length(hit: tuple[str, Node]) -> int:
    return len(hit[0])


def _distinct(nodes: list[Node]) -> Names:
    first: dict[str, Node] = {}
    for n in nodes:
        if n.name:
            first.setdefault(n.name, n)
    return tuple(first.items())


def placer_for(root: Jurisdiction) -> Placer:
    """The placer of a subtree, cached for a few minutes per process (the tree changes
    rarely; a new node shows up within the cache time, or at once when the count changes)."""
    qs = within(Jurisdiction.objects.all(), Scope(paths=(root.path,)), field_name="path")
    shape = qs.aggregate(n=Count("id"), top=Max("id"))
    stamp = (int(shape["n"]), shape["top"])
    hit = _cache.get((root.pk, root.path))
    now = time.monotonic()
    if hit is not None and hit[1] == stamp and now - hit[0] < _CACHE_SECONDS:
        return hit[2]
    rows = list(qs.values_list("id", "code", "name", "level", "path", "parent_id"))
    placer = Placer(root=Node(root.pk, root.code, squeeze(root.name), root.level, root.path))
    parent_of: dict[int, int | None] = {}
    for pk, code, name, level, path, parent_id in rows:
        placer.by_id[pk] = Node(pk, code, squeeze(name), level, path)
        parent_of[pk] = parent_id
    for pk, node in placer.by_id.items():
        parent = parent_of[pk]
        if pk != root.pk and parent is not None:
            placer.children.setdefault(parent, []).append(node)
        if node.level == Level.GRID:
            up: int | None = parent
            while up is not None and up in placer.by_id:
                placer.grids_below.setdefault(up, []).append(node)
                if up == root.pk:
                    break
                up = parent_of.get(up)
    _cache[(root.pk, root.path)] = (now, stamp, placer)
    return placer
