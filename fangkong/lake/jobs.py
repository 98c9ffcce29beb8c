"""Background work of the lake (autodiscovered by the jobs app).

- lake.compact (hourly): fold the fresh batch files of every day into sorted, bucketed files,
  so that queries read a few row groups instead of whole batches. Idempotent.
- lake.retention (daily): delete the day partitions past the retention period (rules.py) and
  their ledger rows, with one audit entry.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fangkong.core.actor import system_actor
from fangkong.jobs.registry import periodic
from fangkong.lake import services


@periodic("lake.compact", every=dt.timedelta(hours=1))
def compact(payload: dict[str, Any]) -> None:
    services.compact(system_actor("lake.compact"))


@periodic("lake.retention", every=dt.timedelta(days=1))
def retention(payload: dict[str, Any]) -> None:
    services.retention_apply(system_actor("lake.retention"))
