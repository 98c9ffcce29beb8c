"""`fangkong keys init|status|rotate|reencrypt|retire`: encryption keys (docs/security.md)."""

from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from fangkong.core import crypto
from fangkong.core.actor import system_actor
from fangkong.core.errors import DomainError
from fangkong.maintenance import keys


class Command(BaseCommand):
    help = "Encryption keys: create, show usage, rotate, re-encrypt, retire."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("init", help="Create missing key files under the data directory")
        sub.add_parser("status", help="How many values each key id encrypts, per column")
        rotate = sub.add_parser("rotate", help="Add a new current key; re-encrypt everything")
        rotate.add_argument("--chunk-size", type=int, default=1000)
        rotate.add_argument("--retire", metavar="OLD_KID", help="Instead: retire an unused key")
        again = sub.add_parser("reencrypt", help="Re-encrypt values not under the current key")
        again.add_argument("--chunk-size", type=int, default=1000)
        retire = sub.add_parser("retire", help="Stop loading a key no value uses any more")
        retire.add_argument("kid")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = system_actor("keys")
        action = options["action"]
        try:
            if action == "init":
                ring = crypto.load_keyring(generate=True)
                self.stdout.write(f"keys ready; current encryption key {ring.current_kid}")
            elif action == "status":
                self._status()
            elif action == "rotate" and options["retire"]:
                self._retire(actor, options["retire"])
            elif action == "rotate":
                self._rotate(actor, options["chunk_size"])
            elif action == "reencrypt":
                counts = keys.reencrypt(actor=actor, chunk_size=options["chunk_size"])
                self.stdout.write(f"re-encrypted {sum(counts.values())} values")
            elif action == "retire":
                self._retire(actor, options["kid"])
        except DomainError as exc:
            raise CommandError(f"{exc.code}: {exc.message} {exc.detail or ''}") from exc

    def _status(self) -> None:
        self.stdout.write(f"current key: {crypto.keyring().current_kid}")
        for label, counts in keys.key_usage().items():
            shown = ", ".join(f"{kid}: {n}" for kid, n in counts.items()) or "empty"
            self.stdout.write(f"{label}: {shown}")

    def _rotate(self, actor: Any, chunk_size: int) -> None:
        if keys._from_environment():
            kid, spec = keys.next_environment_spec()
            self.stdout.write(
                f"Keys come from the environment. Set, on every server and worker:\n"
                f"FANGKONG_ENCRYPTION_KEYS={spec}\n"
                f"restart them, then run `fangkong keys reencrypt`; then `fangkong keys status` "
                f"and, once nothing uses the old key, drop it from the variable."
            )
            return
        kid, counts = keys.rotate(actor=actor, chunk_size=chunk_size)
        self.stdout.write(
            f"new current key {kid}; re-encrypted {sum(counts.values())} values. Servers pick "
            "the new key up on their next read of it; run `fangkong keys reencrypt` once they "
            "have, then `fangkong keys retire <old kid>`."
        )

    def _retire(self, actor: Any, kid: str) -> None:
        moved = keys.retire(actor=actor, kid=kid)
        if moved is None:
            self.stdout.write(f"no value uses {kid}: remove it from FANGKONG_ENCRYPTION_KEYS")
        else:
            self.stdout.write(
                f"retired {kid}: moved to {moved} (keep it while old backups need it)"
            )
