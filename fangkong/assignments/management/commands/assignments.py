"""`fangkong assignments rebuild-tally`: recompute the per-node counters after a bulk load."""

from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from fangkong.assignments import tally


class Command(BaseCommand):
    help = "Assignments: `rebuild-tally` (after loading work items in bulk, or to repair)."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser(
            "rebuild-tally",
            help="Recompute the active and done-per-day counters from the work items",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # One transaction: boards never see the counters half rebuilt, and writes that would
        # change them wait for it.
        with transaction.atomic():
            rebuilt = tally.rebuild()
        # Fresh statistics for the items and both counter tables: after a bulk load the
        # planner's picture (row counts, deadlines, levels) would otherwise be the old one
        # until autovacuum next samples them.
        tally.analyze()
        self.stdout.write(
            f"tally rebuilt: {rebuilt.active_rows} active-work rows, "
            f"{rebuilt.day_rows} done-per-day rows"
        )
