"""Importing an employer's member list (csv or xlsx) into its key population.

Every file passes core.uploads first. The whole file is read and checked before anything is
written: any invalid row means no member, person or test is written, and every problem comes
back with its row number (as a spreadsheet shows it: the header is row 1), column and reason;
the attempt is kept (MemberImport) so the problems can be downloaded as an xlsx report.
Reasons never quote a cell's value: the report is a file that travels.

The same file twice creates nothing twice: members are matched by employer and person (the
person by document number, through its blind index), a sampling day is one test per member
and day. With `replace`, members of the employer missing from the file leave the list.
Persons not yet in the registry are registered (people.services) in the home grid the row
names, else at the employer's node; the registration runs as the system on the importer's
behalf, because an employer's account holds no right over the registry itself.
"""

from __future__ import annotations

import hashlib
from typing import IO

from django.db import transaction

from fangkong.core import clock
from fangkong.core.actor import Actor
from fangkong.core.errors import NotFound
from fangkong.core.uploads import CSV, XLSX, check_upload, table_rows
from fangkong.key_populations import access
from fangkong.key_populations.imports.rows import (
    COLUMN_SYNONYMS,
    MAX_IMPORT_BYTES,
    RowError,
    check_rows,
)
from fangkong.key_populations.imports.write import ImportContext, grids_of, refuse, write
from fangkong.key_populations.models import Employer, MemberImport
from fangkong.key_populations.services import keypop_rules

__all__ = ["COLUMN_SYNONYMS", "MAX_IMPORT_BYTES", "RowError", "member_import"]


def member_import(
    *,
    actor: Actor,
    employer: Employer,
    data: bytes | IO[bytes],
    filename: str,
    replace: bool = False,
) -> MemberImport:
    """Import an employer's member list; returns the attempt (outcome done or refused, with
    `errors`). Raises NotAllowed, NotFound (employer out of scope), UploadRefused (a file
    refused or unreadable: core.uploads), Conflict (no rulebook in force)."""
    access.require_maintain(actor, employer.pk)
    if not actor.scope.covers(employer.jurisdiction_path):
        raise NotFound("keypop.employer_not_found", "Employer not found")
    kind, checked_bytes = check_upload(data, max_bytes=MAX_IMPORT_BYTES, allowed={XLSX, CSV})
    version, section = keypop_rules()
    ctx = ImportContext(
        actor=actor,
        employer=employer,
        filename=filename,
        digest=hashlib.sha256(checked_bytes).hexdigest(),
        replace=replace,
        today=clock.local_date(),
        now=clock.now(),
        version=version,
        section=section,
    )
    checked = check_rows(table_rows(checked_bytes, kind), employer, ctx.today)
    grids = grids_of(checked)
    if checked.errors:
        return refuse(ctx, checked)
    with transaction.atomic():
        return write(ctx, checked, grids)
