"""Pure decisions about assignments: who answers at a level, how far overdue work climbs,
which status changes are allowed. No ORM, no I/O, no clock."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from fangkong.jurisdictions.models import CODE_LENGTH, Level, Post
from fangkong.policy.labels import DUTY_LABELS

# The post that answers for work at each level (the primary holder of that kind).
RESPONSIBLE_POST: dict[int, str] = {
    Level.CITY: Post.Kind.CITY_LEAD,
    Level.DISTRICT: Post.Kind.DISTRICT_LEAD,
    Level.TOWN: Post.Kind.TOWN_LEAD,
    Level.VILLAGE: Post.Kind.COMMUNITY_SECRETARY,
    Level.GROUP: Post.Kind.GROUP_LEADER,
    Level.GRID: Post.Kind.GRID_WORKER,
}

# Codes have a fixed length per level, so the path of a level-L node is a fixed-length prefix
# of every path below it: "/4409/" is 6 characters, "/4409/440902/" 13, and so on. The
# set-based SQL (escalation, tally rebuild) takes ancestors with SUBSTR on these lengths.
PATH_LENGTH: dict[int, int] = {}
_length = 1
for _level in sorted(CODE_LENGTH):
    _length += CODE_LENGTH[_level] + 1
    PATH_LENGTH[int(_level)] = _length
LEVELS: tuple[int, ...] = tuple(sorted(PATH_LENGTH))
CITY_LEVEL = LEVELS[0]

_KIND = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
_TRANSITIONS: dict[str, frozenset[str]] = {
    "open": frozenset({"in_progress", "done", "rejected", "reassigned"}),
    "in_progress": frozenset({"done", "rejected", "reassigned"}),
}


def valid_kind(kind: str) -> bool:
    return bool(_KIND.match(kind))


def can_move(from_status: str, to_status: str) -> bool:
    """Whether a status change is allowed: active work moves forward; closed work stays closed."""
    return to_status in _TRANSITIONS.get(from_status, frozenset())


def ancestor_paths(path: str) -> list[str]:
    """The paths from the top of the tree down to and including `path`."""
    parts = [p for p in path.split("/") if p]
    return ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def parent_path(path: str) -> str:
    """The parent's path, or "" for the top node."""
    chain = ancestor_paths(path)
    return chain[-2] if len(chain) > 1 else ""


def max_escalation(level: int) -> int:
    """How many escalation steps work at `level` can take before it is held by the city.

    Work at the city or a district reaches the city at its first step (the city's own overdue
    work stays at the city, still marked overdue at level 1).
    """
    return max(1, level - CITY_LEVEL)


def holder_level(level: int, escalation: int) -> int:
    """The level of the node holding work of `level` after `escalation` steps, capped at the city."""
    return max(CITY_LEVEL, level - escalation)


@dataclass(frozen=True, slots=True)
class Window:
    """Items due in (after, until] -- or before `until` when `after` is None -- are at `level`.

    `until_inclusive` is False for level 1 only: an item due exactly now is not yet overdue.
    """

    level: int
    after: dt.datetime | None
    until: dt.datetime
    until_inclusive: bool


def escalation_windows(*, now: dt.datetime, interval: dt.timedelta, cap: int) -> list[Window]:
    """The due_at windows that put an item at each escalation level 1..cap at `now`.

    Matches policy.rules.escalation_level (1 once overdue, +1 per further interval), with every
    level from `cap` upwards folded into the last window.
    """
    windows = []
    for level in range(1, cap + 1):
        until = now - (level - 1) * interval
        after = None if level == cap else now - level * interval
        windows.append(Window(level, after, until, until_inclusive=level > 1))
    return windows


def kind_label(kind: str) -> str:
    """The translated name of a duty kind; unknown kinds read as their code
    ("isolate_close_contact" -> "Isolate close contact")."""
    known = DUTY_LABELS.get(kind)
    return str(known) if known is not None else kind.replace("_", " ").capitalize()
