"""`fangkong screening import FILE [--source NAME] [--report REPORT.xlsx]` and
`fangkong screening hand-out` (assignments for arrivals a bulk import committed).

The import runs for the city (the system actor), in one transaction: on any invalid row it
imports nothing, writes the row-level report (when asked) and exits non-zero.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext

from fangkong.core.actor import system_actor
from fangkong.core.uploads import UploadRefused
from fangkong.jurisdictions.models import Jurisdiction
from fangkong.screening import tally
from fangkong.screening.imports import ImportRejected, import_file, report_xlsx
from fangkong.screening.services import hand_out_pending


class Command(BaseCommand):
    help = (
        "Arrival screening: `import FILE [--source NAME] [--report REPORT.xlsx]`, `hand-out`, "
        "`rebuild-tally`."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="Import a push list; nothing is written on any error")
        imp.add_argument("file", type=Path)
        imp.add_argument("--source", default="", help="the list's source (default: file name)")
        imp.add_argument("--report", type=Path, help="write the row-level report (xlsx) here")
        sub.add_parser("hand-out", help="Create the verification work of imported arrivals")
        sub.add_parser("rebuild-tally", help="Recompute the board's counters from the arrivals")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "rebuild-tally":
            self.stdout.write(f"{tally.rebuild()} tally rows written")
            return
        if options["action"] == "hand-out":
            total = 0
            while n := hand_out_pending(limit=500):
                total += n
            self.stdout.write(f"{total} arrivals handed out")
            return
        self._import(options["file"], options["source"], options["report"])

    def _import(self, path: Path, source: str, report: Path | None) -> None:
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        root = Jurisdiction.objects.filter(parent__isnull=True).order_by("code").first()
        if root is None:
            raise CommandError("no jurisdiction tree: import one first")
        actor = system_actor("cli:screening")
        try:
            with path.open("rb") as file:
                result = import_file(
                    actor=actor,
                    file=file,
                    root=root,
                    source_name=source or path.stem,
                    filename=path.name,
                )
        except UploadRefused as exc:
            raise CommandError(f"{path}: {exc.message}") from exc
        except ImportRejected as exc:
            for e in exc.errors[:50]:
                self.stderr.write(f"row {e.row}, column {e.column or '-'}: {e.reason}")
            if report is not None:
                report.write_bytes(
                    report_xlsx((e.as_dict() for e in exc.errors), translate=gettext)
                )
                self.stderr.write(f"report written to {report}")
            raise CommandError(f"{len(exc.errors)} problems; nothing was imported") from exc
        if result.already_imported:
            self.stdout.write(
                f"{path.name} was already imported (batch {result.batch_id}): 0 created, 0 merged"
            )
            return
        self.stdout.write(
            f"imported {path.name}: {result.rows} rows, {result.created} arrivals created, "
            f"{result.merged} merged, {result.unchanged} repeated in the file"
        )
