"""`fangkong demo`: migrate, build a city if there is none, create demo accounts, serve.

`./run demo` sets FANGKONG_DEMO=1 before starting this command: settings read it at import
(generated keys and a local secret are allowed only in demo/debug/test mode).
"""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import sys
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from fangkong.control.demo import demo_orders_issue
from fangkong.core import clock
from fangkong.core.actor import system_actor
from fangkong.core.errors import Conflict
from fangkong.key_populations.demo import demo_run as key_populations_demo
from fangkong.lake.demo import demo_run as lake_demo
from fangkong.mass_testing.demo import demo_run as mass_testing_demo
from fangkong.policy.editions import edition_text
from fangkong.policy.selectors import rulebook_in_force
from fangkong.policy.services import rulebook_publish
from fangkong.screening.demo import demo_run as screening_demo
from fangkong.sentinel.demo import demo_run as sentinel_demo
from fangkong.simulation.city import city_generate
from fangkong.simulation.clear import city_exists
from fangkong.simulation.demo_accounts import DemoAccount, demo_accounts_ensure
from fangkong.tracing.demo import demo_run as tracing_demo

# How far back the demo's simulated history reaches (the sentinels' weeks of daily reports).
DEMO_HISTORY_DAYS = 400


class Command(BaseCommand):
    help = "Run the demo: database, synthetic city, demo accounts, server on 127.0.0.1:8000."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--population", type=int, default=20_000)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--bind", default="127.0.0.1:8000")
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument("--no-serve", action="store_true", help="prepare everything, then exit")
        parser.add_argument(
            "--edition",
            default="winter-2021",
            help="rulebook edition published when none is in force (winter-2021, ninth-edition-2022)",
        )
        parser.add_argument("--orders-per-district", type=int, default=20)

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
        demo = system_actor("demo")
        self._ensure_rulebook(options["edition"])
        made = demo_orders_issue(actor=demo, per_district=options["orders_per_district"])
        if made.issued:
            self.stdout.write(
                f"Control orders: {made.issued} issued, {made.in_effect} in effect, "
                f"{made.tests_recorded} test results, {made.pending_requests} awaiting approval"
            )
        # Accounts first: the operations modules' demos link some of them (the employer account
        # to its employer).
        accounts = demo_accounts_ensure(actor=demo)
        # The operations modules, in the order their data builds on each other: check-ins first
        # (tracing reads them), arrivals, cases, a testing round, key populations, the sentinels.
        for module_demo in (
            lake_demo,
            screening_demo,
            tracing_demo,
            mass_testing_demo,
            key_populations_demo,
            sentinel_demo,
        ):
            for line in module_demo(actor=demo, seed=options["seed"]):
                self.stdout.write(line)
        self._print_accounts(accounts)
        if options["no_serve"]:
            return
        self._serve(options["bind"], options["workers"])

    def _ensure_rulebook(self, edition: str) -> None:
        try:
            in_force = rulebook_in_force()
        except Conflict:
            # In force over the demo's simulated history too (arrivals, reports and rounds of
            # the past weeks are decided under it).
            version = rulebook_publish(
                actor=system_actor("demo"),
                text=edition_text(edition),
                note=f"demo: {edition}",
                effective_from=clock.now() - dt.timedelta(days=DEMO_HISTORY_DAYS),
            )
            self.stdout.write(f"Rulebook: published {version.edition} as version {version.version}")
        else:
            self.stdout.write(
                f"Rulebook: version {in_force.version} ({in_force.book.edition}) in force"
            )

    def _serve(self, bind: str, workers: int) -> None:
        """Run the web server and the job worker side by side until either stops or Ctrl-C."""
        self.stdout.write(f"Serving on http://{bind}/ with a job worker (Ctrl-C stops both)")
        self.stdout.flush()
        python = sys.executable
        children = [
            # Our own interpreter and fixed arguments; `bind` is the operator's option.
            subprocess.Popen(  # noqa: S603
                [python, "-m", "gunicorn", "fangkong.wsgi", "-b", bind, "-w", str(workers)]
            ),
            subprocess.Popen([python, "-m", "fangkong", "worker"]),  # noqa: S603
        ]

        def stop(signum: int, frame: FrameType | None) -> None:
            for child in children:
                if child.poll() is None:
                    child.terminate()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        try:
            while all(child.poll() is None for child in children):
                try:
                    children[0].wait(timeout=1)
                except subprocess.TimeoutExpired:
                    continue
        finally:
            stop(signal.SIGTERM, None)
            for child in children:
                child.wait(timeout=30)

    def _print_accounts(self, accounts: list[DemoAccount]) -> None:
        header = ("username", "role", "jurisdiction", "password", "TOTP secret")
        rows = [(a.username, a.role, a.jurisdiction, a.password, a.totp_secret) for a in accounts]
        widths = [max(_width(r[i]) for r in [header, *rows]) for i in range(len(header))]
        self.stdout.write(
            "\nDemo accounts (passwords and TOTP secrets are new on every run; add the secret "
            "to an authenticator app, which then shows the six-digit sign-in code):"
        )
        for row in [header, tuple("-" * w for w in widths), *rows]:
            cells = [cell + " " * (w - _width(cell)) for cell, w in zip(row, widths, strict=True)]
            self.stdout.write("  " + "  ".join(cells).rstrip())
        self.stdout.write("")


def _width(text: str) -> int:
    """Display width: CJK characters take two columns in a terminal."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)
