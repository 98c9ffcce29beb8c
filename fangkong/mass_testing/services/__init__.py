"""Every write of the mass_testing module: rounds and sites, the sampling ingest, lab results,
positive pools and retests, excusals, coverage. Each checks permission and scope, runs in a
transaction, writes its audit row in it, and enqueues its jobs in it."""

from fangkong.mass_testing.services._common import (
    COVERAGE_JOB,
    POOL_HOLD_JOB,
    SINGLE_POSITIVE_JOB,
)
from fangkong.mass_testing.services.coverage import coverage_refresh, unsampled_to_inbox
from fangkong.mass_testing.services.ingest import MAX_BATCH, ScanAnswer, ScanIn, scans_ingest
from fangkong.mass_testing.services.pools import pool_hold, retest_record, single_positive
from fangkong.mass_testing.services.results import (
    ResultIn,
    ResultReport,
    result_report,
    results_match,
    results_submit,
    results_upload,
)
from fangkong.mass_testing.services.rounds import (
    excusal_record,
    excusal_withdraw,
    round_close,
    round_create,
    site_create,
)

__all__ = [
    "COVERAGE_JOB",
    "MAX_BATCH",
    "POOL_HOLD_JOB",
    "SINGLE_POSITIVE_JOB",
    "ResultIn",
    "ResultReport",
    "ScanAnswer",
    "ScanIn",
    "coverage_refresh",
    "excusal_record",
    "excusal_withdraw",
    "pool_hold",
    "result_report",
    "results_match",
    "results_submit",
    "results_upload",
    "retest_record",
    "round_close",
    "round_create",
    "scans_ingest",
    "single_positive",
    "site_create",
    "unsampled_to_inbox",
]
