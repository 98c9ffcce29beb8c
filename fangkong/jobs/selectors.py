"""Reads over the job queue for the operations dashboard.

Jobs carry no jurisdiction: they are system-wide operational figures, so these selectors take
no scope; the page that shows them decides who may look (e.g. holders of Perm.AUDIT_VIEW).
"""

from __future__ import annotations

from django.db.models import Count, QuerySet

from fangkong.jobs.models import Job


def job_counts() -> dict[str, int]:
    """Number of jobs in each status (every status present, zero when none)."""
    counts = dict.fromkeys(Job.Status.values, 0)
    rows = Job.objects.values_list("status").annotate(n=Count("id")).order_by()
    for status, n in rows:
        counts[status] = n
    return counts


def job_failed_list(*, limit: int = 50) -> QuerySet[Job]:
    """Jobs that failed for good, most recent first, with their last error."""
    return Job.objects.filter(status=Job.Status.FAILED).order_by("-finished_at", "-id")[:limit]
