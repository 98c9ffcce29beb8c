"""A cheap Argon2 for the test suite only: same algorithm and format, tiny cost parameters.

Production keeps Django's Argon2 defaults; hashing the personas' passwords with them made
the suite several times slower.
"""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher


class TestArgon2PasswordHasher(Argon2PasswordHasher):
    time_cost = 1
    memory_cost = 256
    parallelism = 1
