"""Fixtures for the people tests."""

from __future__ import annotations

import pytest
from pytest_django.fixtures import Settings


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Settings) -> None:
    # The personas' Argon2 hashing costs most of a test's time; these tests don't sign in
    # with a password (login() uses force_login), so any hasher will do.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
