"""`fangkong jurisdictions import FILE` and `fangkong jurisdictions refresh-population`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from fangkong.core.actor import system_actor
from fangkong.core.uploads import UploadRefused
from fangkong.jurisdictions.imports import tree_import
from fangkong.jurisdictions.services import population_refresh


class Command(BaseCommand):
    help = "Jurisdiction tree: `import FILE` (csv/xlsx), `refresh-population`."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="Import a tree file; nothing is written on any error")
        imp.add_argument("file", type=Path)
        sub.add_parser("refresh-population", help="Recompute population and household figures")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "import":
            self._import(options["file"])
        else:
            totals = population_refresh(actor=system_actor("cli:jurisdictions"))
            self.stdout.write(
                f"population refreshed: {totals.population} residents, "
                f"{totals.households} households"
            )

    def _import(self, path: Path) -> None:
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        try:
            with path.open("rb") as file:  # read no further than the size limit
                result = tree_import(
                    actor=system_actor("cli:jurisdictions"), data=file, filename=path.name
                )
        except UploadRefused as exc:
            raise CommandError(f"{path}: {exc.message}") from exc
        if not result.ok:
            for e in result.errors:
                self.stderr.write(f"row {e.row}, column {e.column or '-'}: {e.reason}")
            raise CommandError(f"{len(result.errors)} problems; nothing was imported")
        self.stdout.write(
            f"imported {path.name}: {result.created} created, {result.renamed} renamed, "
            f"{result.unchanged} unchanged; posts {result.posts_created} created, "
            f"{result.posts_updated} updated"
        )
