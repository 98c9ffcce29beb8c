"""`fangkong audit verify`: check the audit hash chain and name the first bad entry."""

from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from fangkong.audit.selectors import audit_verify


class Command(BaseCommand):
    help = "Audit log operations: `verify` checks the hash chain."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("verify", help="Verify the hash chain; exit 1 naming the first bad entry")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "verify":
            result = audit_verify()
            if not result.ok:
                raise CommandError(
                    f"audit chain broken at entry #{result.first_bad_seq} (id {result.first_bad_id}): "
                    f"{result.problem}; {result.checked} entries before it are intact"
                )
            self.stdout.write(f"audit chain intact: {result.checked} entries verified")
