"""Removing a previous synthetic city, set-based: one DELETE per table and subtree."""

from __future__ import annotations

from django.db import connections

from fangkong.accounts.models import ApiToken, User
from fangkong.core.scope import prefix_upper_bound
from fangkong.jurisdictions.models import Jurisdiction, Level, Post
from fangkong.people.models import Household, Person
from fangkong.places.models import Place, Room

# Children before parents, so that foreign keys never point at a deleted row.
_BY_PATH = (Room, Place, Person, Household, Post)


def city_exists(*, using: str = "default") -> bool:
    """Whether the database holds any jurisdiction or person already."""
    return Jurisdiction.objects.using(using).exists() or Person.objects.using(using).exists()


def city_clear(*, using: str = "default") -> dict[str, int]:
    """Delete every city tree with everything filed under it. Call inside a transaction.

    Accounts bound to a deleted node lose that binding (and see nothing until rebound);
    the accounts themselves stay. Rows of other apps that still point at a deleted person
    or place make the database refuse, and the caller's transaction rolls back whole.
    """
    connection = connections[using]
    quote = connection.ops.quote_name
    deleted: dict[str, int] = {}
    roots = list(
        Jurisdiction.objects.using(using).filter(level=Level.CITY).values_list("path", flat=True)
    )
    with connection.cursor() as cursor:
        for root in roots:
            bounds = [root, prefix_upper_bound(root)]
            for model in _BY_PATH:
                cursor.execute(
                    f"DELETE FROM {quote(model._meta.db_table)} "  # noqa: S608 - our own table names
                    "WHERE jurisdiction_path >= %s AND jurisdiction_path < %s",
                    bounds,
                )
                deleted[model._meta.label_lower] = (
                    deleted.get(model._meta.label_lower, 0) + cursor.rowcount
                )
            nodes = f"SELECT id FROM {quote(Jurisdiction._meta.db_table)} WHERE path >= %s AND path < %s"  # noqa: S608
            for through in (User.jurisdictions.through, ApiToken.jurisdictions.through):
                cursor.execute(
                    f"DELETE FROM {quote(through._meta.db_table)} "  # noqa: S608
                    f"WHERE jurisdiction_id IN ({nodes})",
                    bounds,
                )
                deleted["account_bindings"] = deleted.get("account_bindings", 0) + cursor.rowcount
            cursor.execute(
                f"DELETE FROM {quote(Jurisdiction._meta.db_table)} WHERE path >= %s AND path < %s",  # noqa: S608
                bounds,
            )
            deleted["jurisdictions.jurisdiction"] = (
                deleted.get("jurisdictions.jurisdiction", 0) + cursor.rowcount
            )
    return deleted
