"""Every write of the sentinel module (units, registers, alerts), re-exported here."""

from fangkong.sentinel.services.alerts import alert_close, alert_raise
from fangkong.sentinel.services.registers import (
    BatchResult,
    ItemResult,
    registrations_import,
    registrations_submit,
)
from fangkong.sentinel.services.reports import registration_sample_record, zero_report_file
from fangkong.sentinel.services.units import (
    check_reporter,
    unit_operator_add,
    unit_register,
    unit_token_issue,
    units_from_places,
    units_reported_by,
)

__all__ = [
    "BatchResult",
    "ItemResult",
    "alert_close",
    "alert_raise",
    "check_reporter",
    "registration_sample_record",
    "registrations_import",
    "registrations_submit",
    "unit_operator_add",
    "unit_register",
    "unit_token_issue",
    "units_from_places",
    "units_reported_by",
    "zero_report_file",
]
