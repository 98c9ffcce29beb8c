"""`fangkong demo`: migrate, build a city if there is none, create demo accounts, serve.

`./run demo` sets FANGKONG_DEMO=1 before starting this command: settings read it at import
(generated keys and a local secret are allowed only in demo/debug/test mode).
"""

from __future__ import annotations

import os
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from fangkong.core.actor import system_actor
from fangkong.simulation.city import city_generate
from fangkong.simulation.clear import city_exists
from fangkong.simulation.demo_accounts import DemoAccount, demo_accounts_ensure


class Command(BaseCommand):
    help = "Run the demo: database, synthetic city, demo accounts, server on 127.0.0.1:8000."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--population", type=int, default=20_000)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--bind", default="127.0.0.1:8000")
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument("--no-serve", action="store_true", help="prepare everything, then exit")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEMO:
            raise CommandError(
                "fangkong demo runs in demo mode only: start it with `./run demo`, "
                "or set FANGKONG_DEMO=1 in the environment"
            )
        verbosity = options["verbosity"]
        call_command("migrate", interactive=False, verbosity=max(0, verbosity - 1))
        if city_exists():
            self.stdout.write("A city is already in the database; keeping it.")
        else:
            self.stdout.write(
                f"Building a synthetic city of {options['population']:,} persons "
                f"(seed {options['seed']})..."
            )
            summary = city_generate(population=options["population"], seed=options["seed"])
            self.stdout.write(
                f"City {summary['name']}: {summary['persons']:,} persons, "
                f"{summary['places']:,} places, in {summary['seconds']}s"
            )
        call_command("collectstatic", interactive=False, verbosity=0)
        accounts = demo_accounts_ensure(actor=system_actor("demo"))
        self._print_accounts(accounts)
        if options["no_serve"]:
            return
        self.stdout.write(f"Serving on http://{options['bind']}/ (Ctrl-C stops)")
        self.stdout.flush()
        argv = [
            sys.executable, "-m", "gunicorn", "fangkong.wsgi",
            "-b", options["bind"], "-w", str(options["workers"]),
        ]  # fmt: skip
        os.execvp(argv[0], argv)  # noqa: S606 - replaces this process; Ctrl-C reaches gunicorn

    def _print_accounts(self, accounts: list[DemoAccount]) -> None:
        header = ("username", "role", "jurisdiction", "password")
        rows = [(a.username, a.role, a.jurisdiction, a.password) for a in accounts]
        widths = [max(_width(r[i]) for r in [header, *rows]) for i in range(4)]
        self.stdout.write("\nDemo accounts (passwords are new on every run):")
        for row in [header, tuple("-" * w for w in widths), *rows]:
            cells = [cell + " " * (w - _width(cell)) for cell, w in zip(row, widths, strict=True)]
            self.stdout.write("  " + "  ".join(cells).rstrip())
        self.stdout.write("")


def _width(text: str) -> int:
    """Display width: CJK characters take two columns in a terminal."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)
