"""`fangkong retention run|show|purge|reapply`: apply the retention policy (docs/security.md)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from fangkong.core.actor import system_actor
from fangkong.core.errors import DomainError
from fangkong.maintenance import retention
from fangkong.maintenance.policy import policy


class Command(BaseCommand):
    help = "Retention: `run` purges what is past retention, `show` prints the policy."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        run = sub.add_parser("run", help="Purge records past retention; write a report")
        run.add_argument("--dry-run", action="store_true", help="Count only; change nothing")
        run.add_argument("--report", type=Path, help="Report file (default DATA_DIR/reports/)")
        run.add_argument("--chunk-size", type=int, default=2000)
        sub.add_parser("show", help="Print the retention policy in force")
        purge = sub.add_parser("purge", help="Shred named persons now (an erasure request)")
        purge.add_argument("--person", type=int, action="append", required=True, dest="persons")
        purge.add_argument("--reason", required=True)
        sub.add_parser("reapply", help="Shred again every person in the purge ledger file")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = system_actor("retention")
        action = options["action"]
        try:
            if action == "show":
                for rule in policy():
                    self.stdout.write(
                        f"{rule.category.value}: {rule.days} days after {rule.starts}: {rule.action}"
                    )
            elif action == "run":
                report = retention.retention_run(
                    actor=actor,
                    dry_run=options["dry_run"],
                    report_path=options["report"],
                    chunk_size=options["chunk_size"],
                )
                verb = "would purge" if report.dry_run else "purged"
                counts = ", ".join(f"{k} {v}" for k, v in report.counts.items())
                self.stdout.write(f"{verb}: {counts}; report {report.report_path}")
            elif action == "purge":
                count = retention.person_purge(
                    actor=actor, person_ids=options["persons"], reason=options["reason"]
                )
                self.stdout.write(f"purged {count} person(s)")
            elif action == "reapply":
                count = retention.ledger_reapply(actor=actor)
                self.stdout.write(f"shredded again: {count} person(s)")
        except DomainError as exc:
            raise CommandError(f"{exc.code}: {exc.message} {exc.detail or ''}") from exc
