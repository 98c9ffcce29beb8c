from __future__ import annotations

import pytest

from conftest import Tree
from fangkong.accounts.models import User


@pytest.fixture
def staff(two_districts: Tree) -> dict[str, User]:
    """Like the shared `personas`, without hashing passwords (tests sign in with force_login);
    Argon2 made each test's setup take seconds."""
    t = two_districts
    users = {}
    for name, role, node in (
        ("grid_worker", "grid_worker", t.grid_a),
        ("district_officer", "district_staff", t.district_a),
        ("sibling_district_officer", "district_staff", t.district_b),
        ("other_role", "lab", t.district_a),
    ):
        users[name] = User.objects.create(username=name, role=role)
        users[name].jurisdictions.set([node])
    return users
