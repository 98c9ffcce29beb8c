"""Time-based one-time passwords (RFC 6238): pure functions, no ORM, no clock of their own.

Built on the HOTP primitive of `cryptography` (already a dependency); see
docs/decisions/0006-totp.md for why not django-otp. A code is HOTP(secret, step) with
step = unix time // 30, six digits, SHA-1: what every authenticator app speaks.
"""

from __future__ import annotations

import base64
import datetime as dt
import hmac
import secrets

from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor.hotp import HOTP
from cryptography.hazmat.primitives.twofactor.totp import TOTP

STEP_SECONDS = 30
DIGITS = 6
SECRET_BYTES = 20  # 160 bits, the size RFC 4226 recommends
# Accept the previous and the next step too: a phone's clock may be half a minute off, and a
# code typed at the end of its step arrives in the next one.
DRIFT_STEPS = 1
ISSUER = "Fangkong"


def _sha1() -> SHA1:
    # HMAC-SHA1 is what RFC 4226/6238 and the authenticator apps use; collisions in SHA-1 do not
    # weaken HMAC, so this is not the insecure use the linter looks for.
    return SHA1()  # noqa: S303


def new_secret() -> str:
    """A fresh random secret, base32 without padding (what authenticator apps accept)."""
    return base64.b32encode(secrets.token_bytes(SECRET_BYTES)).decode().rstrip("=")


def _key(secret: str) -> bytes:
    padded = secret.upper() + "=" * (-len(secret) % 8)
    return base64.b32decode(padded)


def step_at(at: dt.datetime) -> int:
    return int(at.timestamp()) // STEP_SECONDS


def code_for_step(secret: str, step: int) -> str:
    return HOTP(_key(secret), DIGITS, _sha1()).generate(step).decode()


def code_at(secret: str, at: dt.datetime) -> str:
    """The code an authenticator shows at an instant (tests, the demo)."""
    return code_for_step(secret, step_at(at))


def matching_step(secret: str, code: str, *, at: dt.datetime, after: int | None) -> int | None:
    """The time step whose code this is, within the drift, and later than `after`; else None.

    Refusing steps up to `after` (the last step accepted for this device) is what makes a code
    single-use: replaying it, or any older one, fails.
    """
    code = normalize_code(code)
    if len(code) != DIGITS or not code.isdigit():
        return None
    now = step_at(at)
    found = None
    for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
        # Compare every candidate in constant time, without stopping early.
        if hmac.compare_digest(code_for_step(secret, step), code) and found is None:
            found = step
    if found is None or (after is not None and found <= after):
        return None
    return found


def normalize_code(code: str) -> str:
    return "".join(ch for ch in code.strip().lower() if ch not in " -")


def provisioning_uri(secret: str, *, account: str) -> str:
    """The otpauth:// URI an authenticator app reads (typed, pasted or scanned)."""
    return TOTP(_key(secret), DIGITS, _sha1(), STEP_SECONDS).get_provisioning_uri(account, ISSUER)


def looks_like_totp(code: str) -> bool:
    code = normalize_code(code)
    return len(code) == DIGITS and code.isdigit()
