"""/api/jurisdictions: the tree for machine clients and the browser. request.auth is the Actor."""

from __future__ import annotations

from dataclasses import asdict

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import File, Router
from ninja.files import UploadedFile

from fangkong.core.actor import Actor
from fangkong.core.errors import Invalid
from fangkong.jurisdictions.imports import ImportResult, tree_import
from fangkong.jurisdictions.models import Jurisdiction, Post
from fangkong.jurisdictions.schemas import ImportResultOut, JurisdictionOut, PostOut
from fangkong.jurisdictions.selectors import jurisdiction_children, jurisdiction_get, post_list

router = Router(tags=["jurisdictions"])


def _actor(request: HttpRequest) -> Actor:
    actor: Actor = request.auth  # type: ignore[attr-defined]
    return actor


@router.post("/import", response=ImportResultOut)
def import_tree(request: HttpRequest, file: File[UploadedFile]) -> ImportResult:
    """Import a csv/xlsx tree. 422 with every row error when anything is wrong (nothing written)."""
    # The upload gate (core.uploads) checks size and type by content before reading it all.
    result = tree_import(actor=_actor(request), data=file, filename=file.name or "")
    if not result.ok:
        raise Invalid(
            "import.invalid",
            f"{len(result.errors)} problems; nothing was imported",
            errors=[asdict(e) for e in result.errors],
        )
    return result


@router.get("/{code}", response=JurisdictionOut)
def get_jurisdiction(request: HttpRequest, code: str) -> Jurisdiction:
    return jurisdiction_get(scope=_actor(request).scope, code=code)


@router.get("/{code}/children", response=list[JurisdictionOut])
def get_children(request: HttpRequest, code: str) -> QuerySet[Jurisdiction]:
    scope = _actor(request).scope
    return jurisdiction_children(scope=scope, node=jurisdiction_get(scope=scope, code=code))


@router.get("/{code}/posts", response=list[PostOut])
def get_posts(request: HttpRequest, code: str) -> QuerySet[Post]:
    scope = _actor(request).scope
    return post_list(scope=scope, node=jurisdiction_get(scope=scope, code=code))
