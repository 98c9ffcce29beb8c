"""RFC 6238 codes as pure functions: test vectors, drift, replay, the otpauth URI."""

from __future__ import annotations

import datetime as dt

from fangkong.accounts import totp

NOW = dt.datetime(2026, 1, 20, 8, 0, 10, tzinfo=dt.UTC)
RFC_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # "12345678901234567890", RFC 6238 appendix B
STEP = dt.timedelta(seconds=totp.STEP_SECONDS)


def test_codes_are_the_rfc_6238_test_vectors() -> None:
    # The RFC lists 8 digits; six-digit codes are the last six of the same truncation.
    assert totp.code_at(RFC_SECRET, dt.datetime.fromtimestamp(59, dt.UTC)) == "287082"
    assert totp.code_at(RFC_SECRET, dt.datetime.fromtimestamp(1111111109, dt.UTC)) == "081804"


def test_a_code_is_accepted_within_one_step_of_drift_only() -> None:
    code = totp.code_at(RFC_SECRET, NOW)
    assert totp.matching_step(RFC_SECRET, code, at=NOW, after=None) == totp.step_at(NOW)
    assert totp.matching_step(RFC_SECRET, code, at=NOW + STEP, after=None) is not None
    assert totp.matching_step(RFC_SECRET, code, at=NOW - STEP, after=None) is not None
    assert totp.matching_step(RFC_SECRET, code, at=NOW + 2 * STEP, after=None) is None


def test_a_used_step_and_older_ones_are_refused() -> None:
    step = totp.step_at(NOW)
    code = totp.code_at(RFC_SECRET, NOW)
    older = totp.code_at(RFC_SECRET, NOW - STEP)
    assert totp.matching_step(RFC_SECRET, code, at=NOW, after=step) is None
    assert totp.matching_step(RFC_SECRET, older, at=NOW, after=step - 1) is None
    assert totp.matching_step(RFC_SECRET, code, at=NOW, after=step - 1) == step


def test_malformed_codes_never_match() -> None:
    for code in ("", "12345", "1234567", "abcdef", "28708 2x"):
        assert totp.matching_step(RFC_SECRET, code, at=NOW, after=None) is None


def test_provisioning_uri_names_the_issuer_and_account() -> None:
    uri = totp.provisioning_uri(RFC_SECRET, account="grid_worker")
    assert uri.startswith("otpauth://totp/Fangkong:grid_worker?")
    assert f"secret={RFC_SECRET}" in uri
    assert "period=30" in uri
    assert "digits=6" in uri
