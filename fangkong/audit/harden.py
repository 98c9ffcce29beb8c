"""Database privileges for running the application as a role that cannot rewrite the audit log.

The append-only triggers stop UPDATE, DELETE and TRUNCATE for everyone, but the owner of a table
may drop its triggers. In production the tables belong to a migration role, the application
connects as another role, and `fangkong audit harden --app-role NAME` (run as the owner) grants
that role the data rights it needs and withholds UPDATE, DELETE and TRUNCATE on the audit log,
so the database refuses them even without the triggers. SQLite has no roles: there the boundary
is the database file's permissions (docs/security.md).
"""

from __future__ import annotations

import re

from django.db.backends.base.base import BaseDatabaseWrapper

AUDIT_TABLE = "audit_auditentry"
ROLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


class HardenError(Exception):
    pass


def harden_statements(connection: BaseDatabaseWrapper, role: str) -> list[str]:
    """The GRANT and REVOKE statements, in order. Raises HardenError for an unusable role."""
    if connection.vendor != "postgresql":
        raise HardenError(
            "SQLite has no database roles: protect the database file instead (owned by the "
            "service account, mode 0600, directory 0700; see docs/security.md)"
        )
    if not ROLE_NAME.match(role):
        raise HardenError(f"not a plain role name: {role!r}")
    q = connection.ops.quote_name
    with connection.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cur.fetchone() is None:
            raise HardenError(f"role {role!r} does not exist (CREATE ROLE ... LOGIN first)")
        cur.execute("SELECT tableowner FROM pg_tables WHERE tablename = %s", [AUDIT_TABLE])
        owner = cur.fetchone()
        cur.execute("SELECT current_database(), current_schema()")
        database, schema = cur.fetchone()
    if owner is not None and owner[0] == role:
        # An owner may drop the triggers and grant itself anything: no privilege can bind it.
        raise HardenError(f"role {role!r} owns the tables: run the application as another role")
    r, s = q(role), q(schema)
    return [
        f"GRANT CONNECT ON DATABASE {q(database)} TO {r}",
        f"GRANT USAGE ON SCHEMA {s} TO {r}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {s} TO {r}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {s} TO {r}",
        # Tables that later migrations create (as the role running this) get the same rights.
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {s} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {r}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {s} GRANT USAGE, SELECT ON SEQUENCES TO {r}",
        f"REVOKE UPDATE, DELETE, TRUNCATE ON {q(AUDIT_TABLE)} FROM {r}",
        f"GRANT SELECT, INSERT ON {q(AUDIT_TABLE)} TO {r}",
    ]


def harden(connection: BaseDatabaseWrapper, role: str) -> list[str]:
    """Apply the statements in one transaction; returns them. Raises HardenError."""
    statements = harden_statements(connection, role)
    with connection.cursor() as cur:
        for sql in statements:
            cur.execute(sql)
    return statements
