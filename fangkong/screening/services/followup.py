"""The follow-up plan of a returnee class (rulebook `screening.followups`), scheduled as the
grid's work once the arrival is verified: one test assignment per plan day from today on, due
at the end of that day, and a home visit within a day where the plan asks for one.

An arrival under a control order is followed by the order's own test schedule instead (the
order's category rule governs; nothing is scheduled twice). A test taken at verification
(sample reference recorded) counts for today. Scheduling is idempotent: each item has a
dedupe key of the arrival and the day.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from fangkong.assignments import services as assignments
from fangkong.core import clock
from fangkong.core.actor import system_actor
from fangkong.jurisdictions.models import Level
from fangkong.policy.schema import Rulebook
from fangkong.screening import rules
from fangkong.screening.models import Arrival, ReturneeClass

FOLLOW_UP_SUBJECT = "arrival_followup"
TEST_KIND = "arrival_followup_test"
VISIT_KIND = "arrival_home_visit"
HOME_VISIT_HOURS = 24


def followups_schedule(a: Arrival, book: Rulebook) -> int:
    """Hand the verified arrival's follow-up to its grid; returns the number of items made."""
    if a.order_id is not None or a.jurisdiction.level != Level.GRID:
        return 0
    today = clock.local_date()
    plan = book.screening.followups.get(a.returnee_class) or book.screening.followups["other"]
    days = [
        d
        for d in rules.followup_of(book, a.returnee_class, a.arrival_date or today)
        if d > today or (d == today and not a.sample_ref)
    ]
    actor = system_actor("screening")
    detail = {"returnee_class": a.returnee_class, "monitoring_days": plan.monitoring_days}
    with translation.override(settings.LANGUAGE_CODE):
        label = str(ReturneeClass(a.returnee_class).label)
        for day in days:
            assignments.assignment_create(
                actor=actor,
                kind=TEST_KIND,
                jurisdiction=a.jurisdiction,
                title=_("Follow-up test of arrival %(id)s (%(cls)s) on %(day)s")
                % {"id": a.pk, "cls": label, "day": f"{day:%m-%d}"},
                subject_type=FOLLOW_UP_SUBJECT,
                subject_id=a.pk,
                person_id=a.person_id,
                due_at=clock.local_midnight(day + dt.timedelta(days=1)),
                dedupe_key=f"{FOLLOW_UP_SUBJECT}:{a.pk}:{day.isoformat()}",
                detail={**detail, "day": day.isoformat()},
            )
        if plan.home_visit:
            assignments.assignment_create(
                actor=actor,
                kind=VISIT_KIND,
                jurisdiction=a.jurisdiction,
                title=_("Home visit to arrival %(id)s (%(cls)s)") % {"id": a.pk, "cls": label},
                subject_type=FOLLOW_UP_SUBJECT,
                subject_id=a.pk,
                person_id=a.person_id,
                due_at=clock.now() + dt.timedelta(hours=HOME_VISIT_HOURS),
                dedupe_key=f"{FOLLOW_UP_SUBJECT}:{a.pk}:visit",
                detail=detail,
            )
    return len(days) + int(plan.home_visit)
