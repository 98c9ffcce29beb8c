"""API shapes of the jurisdiction tree."""

from __future__ import annotations

from typing import Any

from ninja import Schema

from fangkong.core.perms import Perm
from fangkong.jurisdictions.models import Jurisdiction, Post
from fangkong.jurisdictions.rules import parent_code_of, shown_phone


class JurisdictionOut(Schema):
    code: str
    name: str
    level: int
    level_label: str
    parent_code: str | None
    path: str
    population: int
    households: int

    @staticmethod
    def resolve_level_label(obj: Jurisdiction) -> str:
        return str(obj.get_level_display())

    @staticmethod
    def resolve_parent_code(obj: Jurisdiction) -> str | None:
        return parent_code_of(obj.code)


class PostOut(Schema):
    id: int
    kind: str
    kind_label: str
    holder_name: str
    phone: str
    is_primary: bool

    @staticmethod
    def resolve_kind_label(obj: Post) -> str:
        return str(obj.get_kind_display())

    @staticmethod
    def resolve_phone(obj: Post, context: dict[str, Any]) -> str:
        actor = context["request"].auth
        return shown_phone(obj.phone, full=actor.can(Perm.PERSON_VIEW_FULL))


class RowErrorOut(Schema):
    row: int
    column: str
    reason: str


class ImportResultOut(Schema):
    created: int
    renamed: int
    unchanged: int
    posts_created: int
    posts_updated: int
