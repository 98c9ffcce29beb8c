"""Template filters for contact details of staff and places."""

from __future__ import annotations

from django import template

from fangkong.core.actor import Actor
from fangkong.core.perms import Perm
from fangkong.jurisdictions.rules import shown_phone

register = template.Library()


@register.filter
def phone_for(phone: str, actor: Actor | None) -> str:
    """`{{ post.phone|phone_for:actor }}`: in full for roles that see personal data in full."""
    return shown_phone(phone or "", full=actor is not None and actor.can(Perm.PERSON_VIEW_FULL))
