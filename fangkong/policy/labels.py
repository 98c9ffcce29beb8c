"""Display labels of the rulebook's vocabulary (translated; the codes stay English)."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from fangkong.policy.schema import Category, CodeColour, Duty, Measure, RiskLevel

CATEGORY_LABELS: dict[str, Promise] = {
    Category.CONFIRMED_CASE: _("Confirmed case"),
    Category.ASYMPTOMATIC_INFECTION: _("Asymptomatic infection"),
    Category.CLOSE_CONTACT: _("Close contact"),
    Category.SECONDARY_CONTACT: _("Secondary contact"),
    Category.COPRESENCE_CONTACT: _("Co-presence contact"),
    Category.ARRIVAL_HIGH_RISK: _("Arrival from a high-risk area"),
    Category.ARRIVAL_MEDIUM_RISK: _("Arrival from a medium-risk area"),
    Category.ARRIVAL_LOW_RISK: _("Arrival from a low-risk area"),
    Category.INBOUND_ABROAD: _("Inbound from abroad"),
    Category.KEY_POPULATION: _("Key population"),
    Category.DRUG_BUYER: _("Four-class drug buyer"),
}

MEASURE_LABELS: dict[str, Promise] = {
    Measure.HOSPITAL_TREATMENT: _("Hospital treatment"),
    Measure.CENTRALIZED_QUARANTINE: _("Centralized quarantine"),
    Measure.HOME_QUARANTINE: _("Home quarantine"),
    Measure.HOME_HEALTH_MONITORING: _("Home health monitoring"),
    Measure.TESTS_WITHIN: _("Tests within days"),
    Measure.DAILY_HEALTH_MONITORING: _("Daily health monitoring"),
}

DUTY_LABELS: dict[str, Promise] = {
    Duty.VERIFY_PUSHED_ARRIVAL: _("Verify a pushed arrival"),
    Duty.LAND_ASSIST_REQUEST: _("Land an assist request"),
    Duty.ISOLATE_CLOSE_CONTACT: _("Isolate a close contact"),
    Duty.ISOLATE_SECONDARY_CONTACT: _("Isolate a secondary contact"),
    Duty.FIRST_INVESTIGATION_REPORT: _("First investigation report"),
    Duty.CONTACT_LIST: _("Contact list"),
    Duty.FULL_INVESTIGATION_REPORT: _("Full investigation report"),
    Duty.RETEST_POSITIVE_POOL: _("Retest a positive pool"),
    Duty.FOLLOW_UP_DRUG_BUYER: _("Follow up a drug buyer"),
    Duty.VERIFY_SENTINEL_ALERT: _("Verify a sentinel alert"),
    Duty.FIX_INSPECTION_FINDING: _("Fix an inspection finding"),
    Duty.SCHEDULED_TEST: _("Scheduled test"),
}

CODE_LABELS: dict[str, Promise] = {
    CodeColour.RED: _("Red code"),
    CodeColour.YELLOW: _("Yellow code"),
    CodeColour.GREEN: _("Green code"),
}

RISK_LABELS: dict[str, Promise] = {
    RiskLevel.HIGH: _("High-risk area"),
    RiskLevel.MEDIUM: _("Medium-risk area"),
    RiskLevel.LOW: _("Low-risk area"),
}


def label(table: dict[str, Promise], code: str) -> str:
    """The label of a code, or the code itself when the table does not know it."""
    found = table.get(code)
    return str(found) if found is not None else code.replace("_", " ")
