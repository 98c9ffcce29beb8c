"""Who is acting: a signed-in user, an API client, or the system (background jobs)."""

from __future__ import annotations

from dataclasses import dataclass

from fangkong.core.errors import NotAllowed
from fangkong.core.perms import Perm
from fangkong.core.scope import Scope


@dataclass(frozen=True, slots=True)
class Actor:
    kind: str  # "user" | "token" | "system"
    id: int | None
    label: str
    role: str
    scope: Scope
    ip: str = ""

    def can(self, perm: Perm) -> bool:
        return perm in self.scope.perms


def require(actor: Actor, perm: Perm) -> None:
    """Raise NotAllowed unless the actor holds the permission."""
    if not actor.can(perm):
        raise NotAllowed("permission_denied", f"Missing permission {perm.value}", perm=perm.value)


def system_actor(label: str = "system") -> Actor:
    """The actor for background jobs and operator commands: explicit, city-wide."""
    return Actor(kind="system", id=None, label=label, role="system", scope=Scope.system())
