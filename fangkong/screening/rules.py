"""Pure decisions of arrival screening: risk matching, category and measure, deadlines, the
board's flags of an arrival. No ORM, no I/O, no clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from fangkong.core.text import squeeze
from fangkong.policy.rules import ARRIVAL_CATEGORY, plan_for, risk_level_of
from fangkong.policy.schema import Category, Duty, Measure, RiskLevel, Rulebook

# The board's counters (ArrivalTally.key), in display order.
TALLY_KEYS = (
    "received",
    "verified",
    "not_reached",
    "under_control",
    "sampled",
    "duplicates",
    "not_in_city",
    "unplaced",
    "transferred",
)
NOT_IN_CITY_REASONS = frozenset({"not_in_city", "left"})
# Not-reached reasons that go back to an assist request's sender as its outcome.
REPLY_OF_REASON = {
    "no_such_person": "no_such_person",
    "not_in_city": "not_in_city",
    "left": "left",
    "wrong_number": "not_reached",
    "refused": "not_reached",
}


@dataclass(frozen=True, slots=True)
class Facts:
    """What the board counts about one arrival."""

    status: str
    not_reached_reason: str
    under_control: bool
    sampled: bool
    source_count: int
    placed: bool
    closed: bool


def flags(f: Facts) -> frozenset[str]:
    """The tally keys an arrival counts under."""
    out = {"received"}
    if f.status == "verified":
        out.add("verified")
    if f.status == "not_reached":
        out.add("not_reached")
        if f.not_reached_reason in NOT_IN_CITY_REASONS:
            out.add("not_in_city")
    if f.status == "transferred":
        out.add("transferred")
    if f.under_control:
        out.add("under_control")
    if f.sampled:
        out.add("sampled")
    if f.source_count > 1:
        out.add("duplicates")
    if not f.placed and not f.closed:
        out.add("unplaced")
    return frozenset(out)


def ancestor_paths(path: str) -> list[str]:
    """ "/a/b/c/" -> ["/a/", "/a/b/", "/a/b/c/"]."""
    parts = [p for p in path.split("/") if p]
    return ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def parent_path(path: str) -> str:
    chain = ancestor_paths(path)
    return chain[-2] if len(chain) > 1 else ""


def tally_deltas(
    path: str, before: Iterable[str], after: Iterable[str]
) -> dict[tuple[str, str], int]:
    """Counter changes for every ancestor of `path` when an arrival's flags change."""
    b, a = set(before), set(after)
    out: dict[tuple[str, str], int] = {}
    for key in (a - b) | (b - a):
        sign = 1 if key in a else -1
        for node in ancestor_paths(path):
            out[(node, key)] = out.get((node, key), 0) + sign
    return out


# --- risk and category -------------------------------------------------------------------------


def risk_codes(book: Rulebook, places: Sequence[str]) -> list[str]:
    """The declared risk areas a free-text origin or route names, by code or by name.

    Lists give places as codes (440902001) or names (北京市朝阳区...). An area matches a text
    that contains its code, or its name (spaces and full-width folded)."""
    texts = [squeeze(p) for p in places if p]
    found: list[str] = []
    for area in book.risk_areas:
        name = squeeze(area.name)
        if any(area.code in t or (name and name in t) for t in texts):
            found.append(area.code)
    return found


@dataclass(frozen=True, slots=True)
class Classified:
    risk_codes: tuple[str, ...]
    risk_level: RiskLevel | None
    category: Category | None
    measure: Measure | None


def classify(
    book: Rulebook,
    *,
    origin: str,
    route: str,
    returnee_class: str,
    arrival_date: dt.date | None,
    today: dt.date,
) -> Classified:
    """Category and first measure of an arrival: abroad first, else the highest risk level of
    its origin and route on the arrival day; none when neither names a risk area."""
    codes = risk_codes(book, [origin, *route.replace("，", ",").replace("、", ",").split(",")])
    day = arrival_date or today
    level = risk_level_of(book, codes, day) if codes else None
    category: Category | None
    if returnee_class == "abroad":
        category = Category.INBOUND_ABROAD
    elif level is not None:
        category = ARRIVAL_CATEGORY[level]
    else:
        category = None
    measure = None
    if category is not None:
        plan = plan_for(book, category, anchor=day, start=max(day, today))
        measure = plan.measure if plan.phases else None
        if measure is None:
            category = None  # counted from the arrival day, the measure is already over
    return Classified(tuple(codes), level, category, measure)


def verify_deadline(book: Rulebook, *, level: RiskLevel | None, from_: dt.datetime) -> dt.datetime:
    """When the grid must have verified an arrival: shorter for high and medium risk."""
    hours = book.deadlines_hours[Duty.VERIFY_PUSHED_ARRIVAL]
    if level == RiskLevel.HIGH:
        hours = min(hours, book.screening.verify_high_risk_hours)
    elif level == RiskLevel.MEDIUM:
        hours = min(hours, book.screening.verify_medium_risk_hours)
    return from_ + dt.timedelta(hours=hours)


def assist_deadline(book: Rulebook, *, from_: dt.datetime) -> dt.datetime:
    """When an assist request must have landed (been acknowledged) in the receiving inbox."""
    return from_ + dt.timedelta(hours=book.deadlines_hours[Duty.LAND_ASSIST_REQUEST])


def followup_of(book: Rulebook, returnee_class: str, arrival_date: dt.date) -> list[dt.date]:
    """The test dates of a returnee class's follow-up plan (day 1 = arrival day)."""
    plan = book.screening.followups.get(returnee_class) or book.screening.followups["other"]
    return [arrival_date + dt.timedelta(days=d - 1) for d in plan.test_days]
