"""Pages of the jurisdiction tree: the tree (children load lazily with htmx) and a node."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from fangkong.core.errors import NotFound
from fangkong.core.scope import Scope
from fangkong.jurisdictions.models import Jurisdiction
from fangkong.jurisdictions.selectors import (
    jurisdiction_ancestors,
    jurisdiction_children,
    jurisdiction_get,
    jurisdiction_roots,
    post_list,
)


def _scope(request: HttpRequest) -> Scope:
    scope: Scope = request.actor.scope  # type: ignore[attr-defined]
    return scope


def _node(request: HttpRequest, code: str) -> Jurisdiction:
    try:
        return jurisdiction_get(scope=_scope(request), code=code)
    except NotFound as exc:
        raise Http404(exc.message) from exc


@login_required
def tree(request: HttpRequest) -> HttpResponse:
    roots = jurisdiction_roots(scope=_scope(request))
    return render(request, "jurisdictions/tree.html", {"nodes": roots})


@login_required
def children(request: HttpRequest, code: str) -> HttpResponse:
    """The htmx partial: one level of the tree below a node."""
    node = _node(request, code)
    nodes = jurisdiction_children(scope=_scope(request), node=node)
    return render(request, "jurisdictions/_children.html", {"nodes": nodes})


@login_required
def detail(request: HttpRequest, code: str) -> HttpResponse:
    scope = _scope(request)
    node = _node(request, code)
    return render(
        request,
        "jurisdictions/detail.html",
        {
            "node": node,
            "ancestors": jurisdiction_ancestors(scope=scope, node=node),
            "posts": list(post_list(scope=scope, node=node)),
            "children": list(jurisdiction_children(scope=scope, node=node)),
        },
    )
