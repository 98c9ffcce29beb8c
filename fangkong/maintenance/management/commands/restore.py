"""`fangkong restore FILE --yes`: put a backup back, re-apply later purges, verify the audit."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from fangkong.core.actor import system_actor
from fangkong.maintenance.backup import RestoreError, restore


class Command(BaseCommand):
    help = (
        "Replace the database with a backup (stop `serve` and `worker` first), shred again "
        "what was purged since, and verify the audit chain. Exits non-zero if anything fails."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--yes", action="store_true", help="Confirm: the database is replaced")

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["yes"]:
            raise CommandError("restore replaces the whole database: add --yes to confirm")
        try:
            result = restore(actor=system_actor("restore"), path=options["file"])
        except RestoreError as exc:
            raise CommandError(f"restore failed: {exc}") from exc
        self.stdout.write(
            f"restored the backup of {result.manifest['created_at']}; "
            f"re-applied purges: {result.reapplied}; audit chain intact: "
            f"{result.audit_entries} entries"
        )
