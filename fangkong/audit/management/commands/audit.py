"""`fangkong audit verify`: check the audit hash chain and name the first bad entry.
`fangkong audit harden --app-role NAME`: withhold UPDATE/DELETE/TRUNCATE on the log from the
application's database role (PostgreSQL; see fangkong.audit.harden)."""

from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from fangkong.audit.harden import HardenError, harden
from fangkong.audit.selectors import audit_verify


class Command(BaseCommand):
    help = "Audit log operations: `verify` checks the hash chain; `harden` sets privileges."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("verify", help="Verify the hash chain; exit 1 naming the first bad entry")
        harden_cmd = sub.add_parser(
            "harden", help="Grant the app's role data rights, minus UPDATE/DELETE on the log"
        )
        harden_cmd.add_argument("--app-role", required=True, help="The role the server uses")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "verify":
            result = audit_verify()
            if not result.ok:
                raise CommandError(
                    f"audit chain broken at entry #{result.first_bad_seq} (id {result.first_bad_id}): "
                    f"{result.problem}; {result.checked} entries before it are intact"
                )
            self.stdout.write(f"audit chain intact: {result.checked} entries verified")
        elif options["action"] == "harden":
            try:
                with transaction.atomic():
                    statements = harden(connection, options["app_role"])
            except HardenError as exc:
                raise CommandError(str(exc)) from exc
            for sql in statements:
                self.stdout.write(sql)
            self.stdout.write(f"role {options['app_role']} may read and append the audit log only")
