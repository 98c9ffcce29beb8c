"""Who may see and maintain which key-population rows, decided once.

Staff see the employers and members of their scope (KEYPOP_VIEW) and maintain them
(KEYPOP_MANAGE). An employer's account (role `employer`, linked by an EmployerAccount) sees
and maintains its own employer's members only, inside its scope, and nothing else of the
module: every selector takes `only_employer`, so a call that forgets it does not type-check.
"""

from __future__ import annotations

from fangkong.accounts.roles import Role
from fangkong.core.actor import Actor, require
from fangkong.core.errors import NotAllowed
from fangkong.core.perms import Perm
from fangkong.key_populations.models import EmployerAccount

NO_EMPLOYER = 0  # an employer account without a link: matches no employer at all


def own_employer(actor: Actor) -> int | None:
    """The employer an actor is held to, or None for staff (who see their whole scope)."""
    if actor.kind == "user" and actor.id is not None:
        link = EmployerAccount.objects.filter(user_id=actor.id).values_list("employer_id").first()
        if link is not None:
            return int(link[0])
    if actor.role == Role.EMPLOYER:
        return NO_EMPLOYER
    return None


def require_view(actor: Actor) -> int | None:
    """Check the view permission; return the actor's employer restriction. Raises NotAllowed."""
    require(actor, Perm.KEYPOP_VIEW)
    return own_employer(actor)


def require_maintain(actor: Actor, employer_id: int) -> None:
    """May the actor change this employer's member list (import, tests, leave)?

    Staff need KEYPOP_MANAGE; an employer's account needs KEYPOP_VIEW and the employer to be
    its own (callers have already fetched the employer through a scoped selector, so another
    employer is a NotFound before this). Raises NotAllowed.
    """
    only = require_view(actor)
    if only is None:
        require(actor, Perm.KEYPOP_MANAGE)
    elif only != employer_id:
        raise NotAllowed("permission_denied", "Not your employer")


def require_staff_manage(actor: Actor) -> None:
    """Employers, groups and accounts are the territory's business, not an employer's."""
    require(actor, Perm.KEYPOP_MANAGE)
    if own_employer(actor) is not None:
        raise NotAllowed("permission_denied", "Employer accounts cannot manage employers")
