"""`fangkong serve`: run the web application under gunicorn with the same settings."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Serve Fangkong with gunicorn (static files through whitenoise)."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--bind", default="127.0.0.1:8000")
        parser.add_argument("--workers", type=int, default=2)
        # Threads per worker (gthread): a request waiting on the database (a sampling batch
        # being committed) leaves the worker's other threads serving; 1 = sync workers.
        parser.add_argument("--threads", type=int, default=4)
        parser.add_argument("--timeout", type=int, default=60)

    def handle(self, *args: Any, **options: Any) -> None:
        gunicorn = shutil.which("gunicorn", path=os.path.dirname(sys.executable)) or shutil.which(
            "gunicorn"
        )
        if gunicorn is None:
            raise CommandError("gunicorn is not installed in this environment")
        argv = [
            gunicorn,
            "fangkong.wsgi",
            "--bind",
            options["bind"],
            "--workers",
            str(options["workers"]),
            "--timeout",
            str(options["timeout"]),
            "--threads",
            str(options["threads"]),
            "--worker-class",
            "gthread" if options["threads"] > 1 else "sync",
            # Machine clients (scanners, labs) keep their connection between batches.
            "--keep-alive",
            "10",
            "--access-logfile",
            "-",
        ]
        self.stdout.write(f"serving on http://{options['bind']}/")
        sys.stdout.flush()
        os.execv(gunicorn, argv)  # noqa: S606 - replaces this process; Ctrl-C stops the server
