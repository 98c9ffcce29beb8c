"""`fangkong accounts create|move|deactivate|totp-reset` and `fangkong accounts token-create|token-revoke`.

Operator commands for staff accounts and API tokens; each goes through accounts.services
(audited as the system actor, labelled with the OS user who ran it).
"""

from __future__ import annotations

import argparse
import getpass
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from fangkong.accounts import services, twofactor
from fangkong.accounts.models import ApiToken, User
from fangkong.accounts.roles import Role
from fangkong.core.actor import system_actor
from fangkong.core.errors import DomainError
from fangkong.jurisdictions.models import Jurisdiction


def _nodes(codes: list[str]) -> list[Jurisdiction]:
    nodes = list(Jurisdiction.objects.filter(code__in=codes))
    missing = set(codes) - {n.code for n in nodes}
    if missing:
        raise CommandError(f"unknown jurisdiction code(s): {', '.join(sorted(missing))}")
    return nodes


class Command(BaseCommand):
    help = "Manage staff accounts and API tokens."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Create an account; prints a generated password")
        create.add_argument("--username", required=True)
        create.add_argument("--role", required=True, choices=Role.values)
        create.add_argument(
            "--jurisdiction", action="append", required=True, help="node code (repeatable)"
        )
        create.add_argument("--name", default="", help="display name")
        move = sub.add_parser("move", help="Bind an account to other subtrees (ends its sessions)")
        move.add_argument("--username", required=True)
        move.add_argument("--jurisdiction", action="append", required=True)
        move.add_argument("--reason", required=True)
        deactivate = sub.add_parser("deactivate", help="Deactivate an account (ends its sessions)")
        deactivate.add_argument("--username", required=True)
        deactivate.add_argument("--reason", required=True)
        reset = sub.add_parser(
            "totp-reset",
            help="Remove an account's authenticator and backup codes (lost phone); it enrols "
            "again at its next sign-in, and its sessions end",
        )
        reset.add_argument("--username", required=True)
        reset.add_argument("--reason", required=True)
        token = sub.add_parser(
            "token-create", help="Issue an API token; the secret is printed once"
        )
        token.add_argument("--name", required=True)
        token.add_argument("--role", required=True, choices=Role.values)
        token.add_argument("--jurisdiction", action="append", required=True)
        revoke = sub.add_parser("token-revoke", help="Revoke an API token by its prefix")
        revoke.add_argument("--prefix", required=True)
        revoke.add_argument("--reason", required=True)

    def handle(self, *args: Any, **o: Any) -> None:
        actor = system_actor(f"cli:{getpass.getuser()}")
        try:
            self._dispatch(actor, o)
        except DomainError as exc:
            raise CommandError(exc.message) from exc

    def _dispatch(self, actor: Any, o: dict[str, Any]) -> None:
        action = o["action"]
        if action == "create":
            password = services.generate_password()
            services.user_create(
                actor=actor,
                username=o["username"],
                password=password,
                role=o["role"],
                jurisdictions=_nodes(o["jurisdiction"]),
                display_name=o["name"],
            )
            self.stdout.write(f"created {o['username']} ({o['role']}); password: {password}")
        elif action in {"move", "deactivate", "totp-reset"}:
            user = User.objects.filter(username=o["username"]).first()
            if user is None:
                raise CommandError(f"no account {o['username']!r}")
            if action == "move":
                services.user_move(
                    actor=actor,
                    user=user,
                    jurisdictions=_nodes(o["jurisdiction"]),
                    reason=o["reason"],
                )
            elif action == "totp-reset":
                twofactor.totp_reset(actor=actor, user=user, reason=o["reason"])
            else:
                services.user_deactivate(actor=actor, user=user, reason=o["reason"])
            self.stdout.write(f"{action}: {user.username} done")
        elif action == "token-create":
            token, secret = services.token_create(
                actor=actor, name=o["name"], role=o["role"], jurisdictions=_nodes(o["jurisdiction"])
            )
            self.stdout.write(
                f"token {token.prefix} for {token.name}: {secret}\n(shown once; only its hash is stored)"
            )
        elif action == "token-revoke":
            found = ApiToken.objects.filter(prefix=o["prefix"]).first()
            if found is None:
                raise CommandError(f"no token with prefix {o['prefix']!r}")
            services.token_revoke(actor=actor, token=found, reason=o["reason"])
            self.stdout.write(f"revoked token {found.prefix}")
