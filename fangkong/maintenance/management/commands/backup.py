"""`fangkong backup [--output FILE]`: a consistent copy of the database with a manifest."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand

from fangkong.core.actor import system_actor
from fangkong.maintenance.backup import backup


class Command(BaseCommand):
    help = "Back up the database (SQLite or PostgreSQL). Keys are not included: keep them apart."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--output", type=Path, help="Default: DATA_DIR/backups/")

    def handle(self, *args: Any, **options: Any) -> None:
        path = backup(actor=system_actor("backup"), output=options["output"])
        self.stdout.write(f"backup written: {path}")
