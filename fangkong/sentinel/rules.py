"""Pure sentinel decisions: no ORM, no I/O. Tested without the database."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from fangkong.core.errors import Invalid


class UnitKind(StrEnum):
    PHARMACY = "pharmacy"
    CLINIC = "clinic"
    VILLAGE_CLINIC = "village_clinic"
    FEVER_CLINIC = "fever_clinic"


class RecordKind(StrEnum):
    PURCHASE = "purchase"  # 购药登记
    VISIT = "visit"  # a clinic or fever-clinic patient


class DrugClass(StrEnum):
    ANTIPYRETIC = "antipyretic"
    COUGH = "cough"
    ANTIVIRAL = "antiviral"
    ANTIBIOTIC = "antibiotic"


class Stream(StrEnum):
    """What a daily count series counts: purchases of one drug class, or visits."""

    ANTIPYRETIC = "antipyretic"
    COUGH = "cough"
    ANTIVIRAL = "antiviral"
    ANTIBIOTIC = "antibiotic"
    VISIT = "visit"  # a visit without fever
    FEVER_VISIT = "fever_visit"  # a visit with fever (symptom or temperature)


class SeriesLevel(StrEnum):
    UNIT = "unit"
    TOWN = "town"
    DISTRICT = "district"


class TestStatus(StrEnum):
    """The follow-up a registration needed (48 h rule)."""

    RECENT_NEGATIVE = "recent_negative"  # a negative test within the lookback: nothing to do
    ASSIGNED = "assigned"  # a test requirement went to the buyer's grid
    SAMPLED = "sampled"  # sampled on the spot at the unit


class Outcome(StrEnum):
    FALSE_ALARM = "false_alarm"
    CLUSTER_SUSPECTED = "cluster_suspected"
    EXPLAINED = "explained"


# Which record kind each unit kind files: pharmacies register purchases, clinics visits.
RECORD_KIND_OF_UNIT: dict[str, RecordKind] = {
    UnitKind.PHARMACY: RecordKind.PURCHASE,
    UnitKind.CLINIC: RecordKind.VISIT,
    UnitKind.VILLAGE_CLINIC: RecordKind.VISIT,
    UnitKind.FEVER_CLINIC: RecordKind.VISIT,
}

FEVER_FROM = Decimal("37.3")  # ℃: a measured temperature at or above is a fever
TEMP_MIN, TEMP_MAX = Decimal("34.0"), Decimal("43.0")
QUANTITY_MAX = 100
TEXT_MAX = 200
PRODUCT_MAX = 100


def parse_temperature(raw: object) -> Decimal | None:
    """A body temperature in ℃ with one decimal, or None when not taken. Raises Invalid."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    try:
        value = Decimal(str(raw).strip()).quantize(Decimal("0.1"))
    except (InvalidOperation, ValueError):
        raise Invalid(
            "sentinel.temperature", "Temperature must be a number in ℃", field="temperature"
        ) from None
    if not TEMP_MIN <= value <= TEMP_MAX:
        raise Invalid(
            "sentinel.temperature_range",
            "Temperature must lie between 34.0 and 43.0 ℃",
            field="temperature",
        )
    return value


def parse_quantity(raw: object) -> int:
    """Packs bought: 1..100. Raises Invalid."""
    try:
        value = int(str(raw).strip()) if raw not in (None, "") else 1
    except ValueError:
        raise Invalid(
            "sentinel.quantity", "Quantity must be a whole number", field="quantity"
        ) from None
    if not 1 <= value <= QUANTITY_MAX:
        raise Invalid(
            "sentinel.quantity_range", "Quantity must lie between 1 and 100", field="quantity"
        )
    return value


def has_fever(*, fever_symptom: bool, temperature: Decimal | None) -> bool:
    return fever_symptom or (temperature is not None and temperature >= FEVER_FROM)


def stream_of(*, kind: str, drug_class: str, fever: bool) -> Stream:
    """The series a record counts in."""
    if kind == RecordKind.PURCHASE:
        return Stream(drug_class)
    return Stream.FEVER_VISIT if fever else Stream.VISIT


def needs_test(*, last_negative_at: dt.datetime | None, now: dt.datetime, hours: int) -> bool:
    """True unless a negative test was sampled within the last `hours` (the edge counts as
    within: a test sampled exactly 48 h ago spares the buyer)."""
    if last_negative_at is None:
        return True
    return last_negative_at < now - dt.timedelta(hours=hours)


def is_repeat(*, purchases_in_window: int, min_purchases: int) -> bool:
    """Purchases in the window, this one included."""
    return purchases_in_window >= min_purchases


def report_due_at(day: dt.date, *, due_hour: int, midnight: dt.datetime) -> dt.datetime:
    """When the daily report of `day` is due: `due_hour` local time the next day.
    `midnight` is the local midnight starting `day` (core.clock.local_midnight)."""
    return midnight + dt.timedelta(days=1, hours=due_hour)


def series_key(level: SeriesLevel | str, ref: str) -> str:
    """A series' key within its level: a unit code, or a jurisdiction code."""
    return f"{level}:{ref}"
