"""Checking one register line (a drug purchase or a clinic visit) from any channel: the
counter page, a point-of-sale batch, a row of the daily file. Pure apart from the clock;
raises Invalid naming the field, with the messages the counter page and the row errors show."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from fangkong.core import clock, idnumbers, phones
from fangkong.core.errors import Invalid
from fangkong.core.text import fold
from fangkong.people import protect
from fangkong.sentinel import rules

MAX_AGE_DAYS = 30  # older records are history, not surveillance: refused
FUTURE_SLACK = dt.timedelta(minutes=10)  # a till's clock may run a little fast
CLIENT_ID_MAX = 64
NAME_MAX = 100


@dataclass(frozen=True, slots=True)
class Draft:
    """A checked record, ready to store (identity normalised, indexes computed)."""

    kind: str
    client_id: str | None
    occurred_at: dt.datetime
    day: dt.date
    doc_type: str
    doc_number: str
    doc_bidx: str
    name: str
    phone: str
    phone_bidx: str
    drug_class: str
    product: str
    quantity: int
    fever: bool
    cough: bool
    sore_throat: bool
    other_symptoms: str
    temperature: Decimal | None
    travel_history: str
    contact_history: str
    for_other: bool
    for_name: str
    for_doc_bidx: str
    for_relation: str
    sampled: bool
    sample_ref: str

    @property
    def stream(self) -> str:
        fever = rules.has_fever(fever_symptom=self.fever, temperature=self.temperature)
        return rules.stream_of(kind=self.kind, drug_class=self.drug_class, fever=fever).value


def _text(raw: Mapping[str, Any], key: str, limit: int = rules.TEXT_MAX) -> str:
    value = raw.get(key)
    text = " ".join(fold("" if value is None else str(value)).split())
    if len(text) > limit:
        raise Invalid(
            f"sentinel.{key}_too_long", f"{key} is longer than {limit} characters", field=key
        )
    return text


_TRUE = {"1", "true", "yes", "y", "on", "是", "有", "√", "x"}
_FALSE = {"", "0", "false", "no", "n", "off", "否", "无"}


def _flag(raw: Mapping[str, Any], key: str) -> bool:
    value = raw.get(key)
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, int | float):
        return bool(value)
    text = fold(str(value)).strip().casefold()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise Invalid(f"sentinel.{key}_flag", f"{key} must be yes or no", field=key)


def _occurred_at(raw: Mapping[str, Any], now: dt.datetime) -> dt.datetime:
    value = raw.get("occurred_at")
    if value in (None, ""):
        return now
    if isinstance(value, str):
        parsed = parse_datetime(fold(value).strip())
        if parsed is None:
            raise Invalid(
                "sentinel.occurred_at",
                "Time must look like 2022-01-20 09:30 (or ISO 8601)",
                field="occurred_at",
            )
        value = parsed
    if not isinstance(value, dt.datetime):
        raise Invalid("sentinel.occurred_at", "Time must be a date and time", field="occurred_at")
    if timezone.is_naive(value):  # a till's local time: the city's zone
        value = value.replace(tzinfo=clock.LOCAL_TZ)
    if value > now + FUTURE_SLACK:
        raise Invalid(
            "sentinel.occurred_future", "The time lies in the future", field="occurred_at"
        )
    if value < now - dt.timedelta(days=MAX_AGE_DAYS):
        raise Invalid(
            "sentinel.occurred_too_old",
            f"The time is more than {MAX_AGE_DAYS} days ago",
            field="occurred_at",
        )
    return value


def _identity(raw: Mapping[str, Any]) -> tuple[str, idnumbers.IdFacts, str, str]:
    """(document type, facts, name, phone) of the buyer or patient. Raises Invalid."""
    doc_type = _text(raw, "doc_type", 16) or idnumbers.DocType.RESIDENT_ID.value
    if doc_type not in {d.value for d in idnumbers.DocType}:
        raise Invalid("sentinel.doc_type", f"Unknown document type {doc_type!r}", field="doc_type")
    try:
        facts = idnumbers.validate_document(doc_type, raw.get("doc_number"))
    except Invalid as exc:
        raise Invalid(exc.code, exc.message, field="doc_number") from None
    name = _text(raw, "name", NAME_MAX)
    if not name:
        raise Invalid("sentinel.name_required", "Name is required", field="name")
    phone_raw = _text(raw, "phone", 32)
    if not phone_raw:
        raise Invalid("sentinel.phone_required", "Phone is required", field="phone")
    try:
        phone = phones.normalise_mobile(phone_raw)
    except Invalid as exc:
        raise Invalid(exc.code, exc.message, field="phone") from None
    return doc_type, facts, name, phone


def _drug(raw: Mapping[str, Any], kind: str) -> tuple[str, str, int]:
    """(drug class, product, quantity) of a purchase; empty for a visit. Raises Invalid."""
    if kind == rules.RecordKind.VISIT:
        return "", "", 1
    if kind != rules.RecordKind.PURCHASE:
        raise Invalid("sentinel.kind", f"Unknown record kind {kind!r}", field="kind")
    drug_class = _text(raw, "drug_class", 16).casefold()
    if not drug_class:
        raise Invalid("sentinel.drug_class_required", "Drug class is required", field="drug_class")
    if drug_class not in {c.value for c in rules.DrugClass}:
        raise Invalid(
            "sentinel.drug_class",
            f"Unknown drug class {drug_class!r} (antipyretic, cough, antiviral, antibiotic)",
            field="drug_class",
        )
    return (
        drug_class,
        _text(raw, "product", rules.PRODUCT_MAX),
        rules.parse_quantity(raw.get("quantity")),
    )


def _for_whom(raw: Mapping[str, Any]) -> tuple[bool, str, str, str]:
    """(bought for another, their name, their document index, relation). Raises Invalid."""
    if not _flag(raw, "for_other"):
        return False, "", "", ""
    for_name = _text(raw, "for_name", NAME_MAX)
    if not for_name:
        raise Invalid(
            "sentinel.for_name_required", "Say for whom the drugs were bought", field="for_name"
        )
    for_bidx = ""
    if for_doc := _text(raw, "for_doc_number", 32):
        try:
            for_bidx = protect.doc_index(idnumbers.validate_document("resident_id", for_doc).number)
        except Invalid as exc:
            raise Invalid(exc.code, exc.message, field="for_doc_number") from None
    return True, for_name, for_bidx, _text(raw, "for_relation", 32)


def clean_record(raw: Mapping[str, Any], *, kind: str, now: dt.datetime) -> Draft:
    """Check one record of `kind` (purchase or visit). Raises Invalid with `field`."""
    client_id = _text(raw, "client_id", CLIENT_ID_MAX) or None
    occurred_at = _occurred_at(raw, now)
    doc_type, facts, name, phone = _identity(raw)
    drug_class, product, quantity = _drug(raw, kind)
    temperature = rules.parse_temperature(raw.get("temperature"))
    for_other, for_name, for_bidx, for_relation = _for_whom(raw)
    sampled = _flag(raw, "sampled")
    sample_ref = _text(raw, "sample_ref", 64)
    if sampled and not sample_ref:
        raise Invalid(
            "sentinel.sample_ref_required",
            "On-the-spot sampling needs the sample barcode",
            field="sample_ref",
        )
    return Draft(
        kind=kind,
        client_id=client_id,
        occurred_at=occurred_at,
        day=clock.to_local(occurred_at).date(),
        doc_type=doc_type,
        doc_number=facts.number,
        doc_bidx=protect.doc_index(facts.number),
        name=name,
        phone=phone,
        phone_bidx=protect.phone_index(phone),
        drug_class=drug_class,
        product=product,
        quantity=quantity,
        fever=_flag(raw, "fever"),
        cough=_flag(raw, "cough"),
        sore_throat=_flag(raw, "sore_throat"),
        other_symptoms=_text(raw, "other_symptoms"),
        temperature=temperature,
        travel_history=_text(raw, "travel_history"),
        contact_history=_text(raw, "contact_history"),
        for_other=for_other,
        for_name=for_name,
        for_doc_bidx=for_bidx,
        for_relation=for_relation,
        sampled=sampled,
        sample_ref=sample_ref,
    )
