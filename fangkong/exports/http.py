"""The web side of an export: the response that streams the file, and the view both list pages
use (GET: masked; POST with a reason: full values, for those who may)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from urllib.parse import quote

from django import forms
from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from fangkong.core.actor import Actor
from fangkong.core.errors import Invalid
from fangkong.core.perms import Perm
from fangkong.exports.services import REASON_MAX, Column, ExportFile, export_build


def export_response(export: ExportFile) -> FileResponse:
    """Stream the written file in chunks; the temporary file goes when the response closes."""
    response = FileResponse(export.file, content_type=export.content_type)
    ascii_name = export.filename.encode("ascii", "replace").decode().replace("?", "_")
    response["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(export.filename)}"
    )
    response["Content-Length"] = str(export.size)
    response["Cache-Control"] = "no-store"
    response["X-Content-SHA256"] = export.sha256
    response["X-Export-Rows"] = str(export.rows)
    return response


def export_rows(
    *,
    actor: Actor,
    name: str,
    title: str,
    columns: Sequence[Column],
    rows: Iterable[Sequence[object]],
    fmt: str,
    full: bool = False,
    reason: str = "",
    jurisdiction_path: str = "",
) -> FileResponse:
    """Build, audit and stream an export. Raises as `services.export_build`."""
    export = export_build(
        actor=actor,
        name=name,
        title=title,
        columns=columns,
        rows=rows,
        fmt=fmt,
        full=full,
        reason=reason,
        jurisdiction_path=jurisdiction_path,
    )
    return export_response(export)


class FullExportForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=REASON_MAX, strip=True)


def can_export_full(actor: Actor) -> bool:
    return actor.can(Perm.PERSON_EXPORT) and actor.can(Perm.PERSON_VIEW_FULL)


def export_view(
    request: HttpRequest,
    *,
    actor: Actor,
    name: str,
    title: str,
    columns: Sequence[Column],
    rows: Callable[[], Iterable[Sequence[object]]],
    fmt: str,
    urls: Mapping[str, str],
    jurisdiction_path: str = "",
) -> HttpResponseBase:
    """GET: the masked file. POST (reason): the full file. A bad form comes back as the
    export page with its errors (422). NotAllowed propagates for the caller's 403."""
    full = request.method == "POST"
    form = FullExportForm(request.POST) if full else None
    if form is not None and not form.is_valid():
        return export_page(request, actor=actor, title=title, urls=urls, form=form, status=422)
    try:
        return export_rows(
            actor=actor,
            name=name,
            title=title,
            columns=columns,
            rows=rows(),
            fmt=fmt,
            full=full,
            reason=form.cleaned_data["reason"] if form is not None else "",
            jurisdiction_path=jurisdiction_path,
        )
    except Invalid as exc:
        if form is None:
            raise
        form.add_error("reason" if exc.detail.get("field") == "reason" else None, exc.message)
        return export_page(request, actor=actor, title=title, urls=urls, form=form, status=422)


def export_page(
    request: HttpRequest,
    *,
    actor: Actor,
    title: str,
    urls: Mapping[str, str],
    form: FullExportForm | None = None,
    status: int = 200,
) -> HttpResponse:
    """The choice: masked xlsx or csv (links), or full values with a reason (a form).

    `urls` maps each format to its download URL; the page's query string (the list's
    filters) is carried over."""
    query = request.GET.urlencode()
    return render(
        request,
        "exports/export.html",
        {
            "title": title,
            "xlsx_url": urls["xlsx"] + (f"?{query}" if query else ""),
            "csv_url": urls["csv"] + (f"?{query}" if query else ""),
            "form": form or FullExportForm(),
            "can_full": can_export_full(actor),
        },
        status=status,
    )
