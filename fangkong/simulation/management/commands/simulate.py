"""`fangkong simulate city --population N --seed S [--name NAME] [--replace]`."""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from fangkong.core.errors import Conflict
from fangkong.simulation.city import DEFAULT_CITY_NAME, city_generate


class Command(BaseCommand):
    help = "Build synthetic data: `simulate city` generates a deterministic city."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="what", required=True)
        city = sub.add_parser("city", help="jurisdiction tree, posts, households, persons, places")
        city.add_argument("--population", type=int, default=20_000)
        city.add_argument("--seed", type=int, default=1)
        city.add_argument("--name", default=DEFAULT_CITY_NAME)
        city.add_argument("--code", default="4409", help="4-digit prefecture code")
        city.add_argument(
            "--replace",
            action="store_true",
            help="delete the city already in the database first",
        )
        city.add_argument("--chunk-size", type=int, default=20_000, help=argparse.SUPPRESS)
        city.add_argument("--json", action="store_true", help="print the summary as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["what"] != "city":  # pragma: no cover - argparse enforces the choice
            raise CommandError(f"unknown simulation {options['what']!r}")
        started = time.monotonic()
        last = [0.0]

        def progress(message: str) -> None:
            # Progress goes to stderr, throttled, so --json output stays parseable.
            now = time.monotonic()
            if now - last[0] >= 5 or not message.startswith("persons"):
                last[0] = now
                self.stderr.write(f"[{now - started:7.1f}s] {message}")

        try:
            summary = city_generate(
                population=options["population"],
                seed=options["seed"],
                name=options["name"],
                code=options["code"],
                replace=options["replace"],
                chunk_size=options["chunk_size"],
                progress=progress if options["verbosity"] >= 1 else None,
            )
        except (Conflict, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        if options["json"]:
            self.stdout.write(json.dumps(summary, ensure_ascii=False))
            return
        self.stdout.write(
            f"City {summary['name']} ({summary['city']}), seed {summary['seed']}: "
            f"{summary['persons']:,} persons in {summary['households']:,} households, "
            f"{summary['places']:,} places, {summary['rooms']:,} quarantine rooms, "
            f"{summary['posts']:,} posts, in {summary['seconds']}s"
        )
        for level, count in summary["jurisdictions"].items():
            self.stdout.write(f"  {level}: {count:,}")
