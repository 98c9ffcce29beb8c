"""Encryption at rest for personal data, and keyed blind indexes for exact lookups.

Ciphertext format: "<kid>$<base64(nonce || AES-256-GCM(ciphertext+tag))>". The key id lets keys
rotate: new writes use the first (current) key, reads find the key by id. The blind index is
HMAC-SHA256 under a separate key over the normalised value, truncated to 128 bits: exact match
only, and useless without the key (a plain hash of an 18-digit ID number is brute-forceable).

Keys come from the environment (FANGKONG_ENCRYPTION_KEYS="k1:<b64>,k0:<b64>",
FANGKONG_BLIND_INDEX_KEY="<b64>") or from files in the data directory's keys/ folder. Only in
demo/debug/test mode are missing key files generated; otherwise startup fails.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

NONCE_BYTES = 12


@dataclass(frozen=True)
class KeyRing:
    current_kid: str
    keys: dict[str, AESGCM]
    blind_key: bytes

    def encrypt(self, plaintext: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self.keys[self.current_kid].encrypt(nonce, plaintext.encode("utf-8"), None)
        return f"{self.current_kid}${base64.b64encode(nonce + sealed).decode('ascii')}"

    def decrypt(self, token: str) -> str:
        kid, _, body = token.partition("$")
        if kid not in self.keys:
            raise ValueError(f"unknown encryption key id {kid!r}")
        raw = base64.b64decode(body)
        return self.keys[kid].decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], None).decode("utf-8")

    def blind_index(self, normalised: str, *, purpose: str) -> str:
        """Keyed index of an already-normalised value; `purpose` separates the columns."""
        mac = hmac.new(self.blind_key, f"{purpose}\x00{normalised}".encode(), hashlib.sha256)
        return mac.hexdigest()[:32]


def _decode_key(text: str, what: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{what} is not valid base64") from exc
    if len(key) != 32:
        raise ImproperlyConfigured(f"{what} must be 32 bytes (base64), got {len(key)}")
    return key


def _key_file(path: Path, *, generate: bool) -> bytes:
    if not path.exists():
        if not generate:
            raise ImproperlyConfigured(
                f"Missing key file {path}. Set FANGKONG_ENCRYPTION_KEYS and "
                "FANGKONG_BLIND_INDEX_KEY, or create the key files with `fangkong keys init`."
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(base64.b64encode(secrets.token_bytes(32)).decode("ascii") + "\n")
    return _decode_key(path.read_text(), str(path))


def load_keyring(*, generate: bool | None = None) -> KeyRing:
    gen = settings.FANGKONG_GENERATE_KEYS if generate is None else generate
    keys_dir = Path(settings.KEYS_DIR)
    spec = settings.FANGKONG_ENCRYPTION_KEYS
    if spec:
        keys: dict[str, AESGCM] = {}
        kids: list[str] = []
        for item in spec.split(","):
            kid, sep, b64 = item.strip().partition(":")
            if not sep or not kid or "$" in kid:
                raise ImproperlyConfigured("FANGKONG_ENCRYPTION_KEYS must be 'kid:base64,...'")
            keys[kid] = AESGCM(_decode_key(b64, f"encryption key {kid}"))
            kids.append(kid)
        current = kids[0]
    else:
        current = "k1"
        keys = {current: AESGCM(_key_file(keys_dir / "encryption-k1.key", generate=gen))}
    blind_spec = settings.FANGKONG_BLIND_INDEX_KEY
    blind = (
        _decode_key(blind_spec, "FANGKONG_BLIND_INDEX_KEY")
        if blind_spec
        else _key_file(keys_dir / "blind-index.key", generate=gen)
    )
    return KeyRing(current_kid=current, keys=keys, blind_key=blind)


@lru_cache(maxsize=1)
def keyring() -> KeyRing:
    return load_keyring()


def encrypt(value: str) -> str:
    return keyring().encrypt(value)


def decrypt(token: str) -> str:
    return keyring().decrypt(token)


def blind_index(normalised: str, *, purpose: str) -> str:
    return keyring().blind_index(normalised, purpose=purpose)
