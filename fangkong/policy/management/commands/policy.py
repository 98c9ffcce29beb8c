"""`fangkong policy validate|load|show|history`: the rulebook from the command line."""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from fangkong.core.actor import system_actor
from fangkong.core.clock import LOCAL_TZ
from fangkong.core.errors import DomainError
from fangkong.policy.editions import edition_names, edition_text
from fangkong.policy.schema import parse_rulebook
from fangkong.policy.selectors import rulebook_history, rulebook_in_force, rulebook_version_get
from fangkong.policy.services import rulebook_publish


def _read(source: str) -> str:
    if source in edition_names():
        return edition_text(source)
    path = Path(source)
    if not path.is_file():
        raise CommandError(
            f"{source}: no such file and no shipped edition of that name ({', '.join(edition_names())})"
        )
    return path.read_text(encoding="utf-8")


class Command(BaseCommand):
    help = "Validate, publish and show the policy rulebook."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        v = sub.add_parser("validate", help="Check a rulebook file; print every problem")
        v.add_argument("source", help="a YAML file or a shipped edition name")
        load = sub.add_parser("load", help="Publish a rulebook file as a new version")
        load.add_argument("source", help="a YAML file or a shipped edition name")
        load.add_argument("--note", default="", help="why this version is published")
        load.add_argument(
            "--effective-from", help="local date-time, e.g. 2022-01-20T00:00 (default: now)"
        )
        show = sub.add_parser("show", help="Print the version in force (or --version N)")
        show.add_argument("--version", type=int)
        sub.add_parser("history", help="List every published version")

    def handle(self, *args: Any, **o: Any) -> None:
        try:
            getattr(self, f"_{o['action']}")(o)
        except DomainError as exc:
            problems = exc.detail.get("problems") or []
            lines = [f"  {p['path']}: {p['problem']}" for p in problems]
            raise CommandError(
                "\n".join([exc.message if not lines else "The rulebook is not valid:", *lines])
            ) from exc

    def _validate(self, o: dict[str, Any]) -> None:
        book = parse_rulebook(_read(o["source"]))
        self.stdout.write(f"valid: {book.edition} — {book.title}")

    def _load(self, o: dict[str, Any]) -> None:
        effective = None
        if o["effective_from"]:
            effective = dt.datetime.fromisoformat(o["effective_from"]).replace(tzinfo=LOCAL_TZ)
        version = rulebook_publish(
            actor=system_actor(f"cli:{getpass.getuser()}"),
            text=_read(o["source"]),
            note=o["note"] or f"loaded {o['source']}",
            effective_from=effective,
        )
        self.stdout.write(
            f"rulebook version {version.version} ({version.edition}) effective {version.effective_from:%Y-%m-%d %H:%M}"
        )

    def _show(self, o: dict[str, Any]) -> None:
        if o["version"]:
            self.stdout.write(rulebook_version_get(version=o["version"]).text)
            return
        current = rulebook_in_force()
        self.stdout.write(rulebook_version_get(version=current.version).text)

    def _history(self, o: dict[str, Any]) -> None:
        for row in rulebook_history():
            self.stdout.write(
                f"v{row.version}\t{row.edition}\teffective {row.effective_from:%Y-%m-%d %H:%M}\tby {row.published_by}\t{row.note}"
            )
