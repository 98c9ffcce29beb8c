"""A unit's explicit zero report (零报告) for a day without buyers or patients, and the
on-the-spot sampling of a buyer recorded after the register line (which closes the grid's
follow-up)."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction

from fangkong.assignments import services as assignments
from fangkong.audit.services import record
from fangkong.core import clock
from fangkong.core.actor import Actor, system_actor
from fangkong.core.errors import Conflict, Invalid
from fangkong.sentinel import rules
from fangkong.sentinel.models import DailyReport, Registration, Unit
from fangkong.sentinel.services.registers import FOLLOW_UP_KIND, SUBJECT, buyer_subject
from fangkong.sentinel.services.units import check_reporter


@transaction.atomic
def zero_report_file(*, actor: Actor, unit: Unit, day: dt.date) -> DailyReport:
    """Say the unit had no buyers or patients that day (零报告). Raises Conflict when records
    were filed for the day, Invalid for a day in the future."""
    check_reporter(actor, unit)
    if day > clock.local_date():
        raise Invalid("sentinel.zero_future", "A zero report cannot be filed for a future day")
    now = clock.now()
    report = DailyReport.objects.select_for_update().filter(unit=unit, day=day).first()
    if report is not None:
        if report.records:
            raise Conflict(
                "sentinel.zero_has_records", "Records were filed for this day: it is not zero"
            )
        return report
    try:
        with transaction.atomic():
            report = DailyReport.objects.create(
                unit=unit,
                jurisdiction_path=unit.jurisdiction_path,
                day=day,
                records=0,
                zero=True,
                first_at=now,
                last_at=now,
                filed_by=actor.label[:150],
            )
    except IntegrityError:
        raise Conflict("sentinel.zero_has_records", "Records were filed for this day") from None
    record(
        actor=actor, action="sentinel.zero_report", target=report, detail={"day": day.isoformat()}
    )
    return report


@transaction.atomic
def registration_sample_record(
    *, actor: Actor, registration: Registration, unit: Unit, sample_ref: str
) -> Registration:
    """The unit sampled the buyer after registering them: the grid's follow-up closes."""
    check_reporter(actor, unit)
    ref = " ".join(sample_ref.split())[:64]
    if not ref:
        raise Invalid(
            "sentinel.sample_ref_required",
            "On-the-spot sampling needs the sample barcode",
            field="sample_ref",
        )
    reg = Registration.objects.select_for_update().get(pk=registration.pk)
    if reg.test_status != rules.TestStatus.ASSIGNED:
        raise Conflict("sentinel.no_test_required", "This record needs no test")
    reg.test_status = rules.TestStatus.SAMPLED
    reg.sampled_at, reg.sample_ref = clock.now(), ref
    reg.save(update_fields=["test_status", "sampled_at", "sample_ref"])
    assignments.assignments_close_for_subject(
        actor=system_actor("sentinel"),
        subject_type=SUBJECT,
        subject_id=buyer_subject(reg),
        kind=FOLLOW_UP_KIND,
        outcome=f"Sampled at {unit.name}",
    )
    record(actor=actor, action="sentinel.sample_record", target=reg)
    return reg
