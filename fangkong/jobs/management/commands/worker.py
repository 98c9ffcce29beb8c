"""`fangkong worker`: run background jobs. A plain loop, no broker:

    enqueue this slot of every periodic job; run due jobs; when there were none, sleep.

Run one or more of these next to the web server. `--once` runs a single pass and exits (tests,
cron). SIGTERM/SIGINT finish the job in hand and then stop.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import threading
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from fangkong.jobs.services import enqueue_periodic, run_due

logger = logging.getLogger("fangkong.jobs")


class Command(BaseCommand):
    help = "Run background jobs from the database queue."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--once", action="store_true", help="run one pass and exit")
        parser.add_argument(
            "--poll", type=float, default=2.0, help="seconds to sleep when idle (default 2)"
        )
        parser.add_argument("--limit", type=int, default=100, help="jobs claimed per pass")
        parser.add_argument("--name", default="", help="worker name in job locks and logs")

    def handle(self, *args: Any, **options: Any) -> None:
        worker = options["name"] or f"{socket.gethostname()}:{os.getpid()}"
        limit: int = options["limit"]
        if options["once"]:
            ran = self.one_pass(worker=worker, limit=limit)
            self.stdout.write(f"ran {ran} jobs")
            return
        stop = threading.Event()

        def on_signal(signum: int, frame: FrameType | None) -> None:
            logger.info("worker %s stopping on signal %d", worker, signum)
            stop.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        logger.info("worker %s started", worker)
        while not stop.is_set():
            try:
                # As around a request: drop broken or expired connections (not in --once,
                # which may run inside a caller's transaction, as in tests).
                close_old_connections()
                ran = self.one_pass(worker=worker, limit=limit)
            except Exception:
                # The database went away or a claim failed: say so and keep polling, as a
                # supervisor would restart us anyway. Job failures never get here.
                logger.exception("worker %s pass failed", worker)
                ran = 0
            if ran == 0:
                stop.wait(options["poll"])  # wakes at once on a signal
        logger.info("worker %s stopped", worker)

    def one_pass(self, *, worker: str, limit: int) -> int:
        enqueue_periodic()
        return run_due(worker=worker, limit=limit)
