"""Encryption at rest for personal data, and keyed blind indexes for exact lookups.

Ciphertext format: "<kid>$<base64(nonce || AES-256-GCM(ciphertext+tag))>". The key id lets keys
rotate: new writes use the first (current) key, reads find the key by id. The blind index is
HMAC-SHA256 under a separate key over the normalised value, truncated to 128 bits: exact match
only, and useless without the key (a plain hash of an 18-digit ID number is brute-forceable).

Keys come from the environment (FANGKONG_ENCRYPTION_KEYS="k1:<b64>,k0:<b64>",
FANGKONG_BLIND_INDEX_KEY="<b64>") or from files in the data directory's keys/ folder:
`encryption-<kid>.key` (one per key; `fangkong keys rotate` adds the next one) and
`blind-index.key`. The current key is the one named in `encryption-current`, else the highest
numbered `k<N>`. Only in demo/debug/test mode are missing key files generated; otherwise startup
fails.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

NONCE_BYTES = 12
KEY_FILE = re.compile(r"^encryption-(k\d+)\.key$")
CURRENT_FILE = "encryption-current"


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

    def encrypt_many(self, plaintexts: Sequence[str]) -> list[str]:
        """`encrypt` of each value (bulk writers): one nonce draw and one cipher for all,
        the same ciphertext format."""
        seal = self.keys[self.current_kid].encrypt
        prefix = f"{self.current_kid}$"
        nonces = os.urandom(NONCE_BYTES * len(plaintexts))
        b64 = base64.b64encode
        out = []
        for i, text in enumerate(plaintexts):
            nonce = nonces[i * NONCE_BYTES : (i + 1) * NONCE_BYTES]
            out.append(prefix + b64(nonce + seal(nonce, text.encode("utf-8"), None)).decode())
        return out

    def blind_index_many(self, values: Iterable[str], *, purpose: str) -> list[str]:
        """`blind_index` of each value: the keyed HMAC state (and the purpose) is computed
        once and copied per value instead of re-deriving the padded key each time."""
        base = hmac.new(self.blind_key, f"{purpose}\x00".encode(), hashlib.sha256)
        out = []
        for value in values:
            mac = base.copy()
            mac.update(value.encode())
            out.append(mac.hexdigest()[:32])
        return out


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


def key_file_ids(keys_dir: Path) -> list[str]:
    """Ids of the encryption key files in `keys_dir`, oldest first (k1, k2, ..., k10)."""
    if not keys_dir.is_dir():
        return []
    found = [m.group(1) for p in keys_dir.iterdir() if (m := KEY_FILE.match(p.name))]
    return sorted(found, key=lambda kid: int(kid[1:]))


def current_key_file_id(keys_dir: Path) -> str | None:
    """The kid named in `encryption-current`, else the highest numbered key file's."""
    marker = keys_dir / CURRENT_FILE
    if marker.exists():
        return marker.read_text().strip()
    kids = key_file_ids(keys_dir)
    return kids[-1] if kids else None


def _key_files(keys_dir: Path, *, generate: bool) -> tuple[str, dict[str, AESGCM]]:
    kids = key_file_ids(keys_dir)
    if not kids:
        _key_file(keys_dir / "encryption-k1.key", generate=generate)  # creates it, or raises
        kids = ["k1"]
    current = current_key_file_id(keys_dir) or kids[-1]
    if current not in kids:
        raise ImproperlyConfigured(
            f"{keys_dir / CURRENT_FILE} names key {current!r}, but encryption-{current}.key is missing"
        )
    # The current key first, so a reader of the ring sees what new writes use.
    ordered = [current, *(kid for kid in kids if kid != current)]
    keys = {
        kid: AESGCM(_key_file(keys_dir / f"encryption-{kid}.key", generate=False))
        for kid in ordered
    }
    return current, keys


def key_file_add(keys_dir: Path) -> str:
    """Write the next key file (k<N+1>) and make it current; returns its kid.

    Existing key files stay: ciphertext under them remains readable until it is re-encrypted.
    """
    kids = key_file_ids(keys_dir)
    kid = f"k{int(kids[-1][1:]) + 1 if kids else 1}"
    _key_file(keys_dir / f"encryption-{kid}.key", generate=True)
    marker = keys_dir / CURRENT_FILE
    tmp = marker.with_suffix(".tmp")
    tmp.write_text(kid + "\n")
    tmp.replace(marker)  # atomic: a reader sees the old or the new current key, never neither
    return kid


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
        current, keys = _key_files(keys_dir, generate=gen)
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
    ring = keyring()
    if token.partition("$")[0] not in ring.keys:
        # Another process added a key (`fangkong keys rotate`): load the key files again once,
        # so a running server reads values re-encrypted under the new key without a restart.
        keyring.cache_clear()
        ring = keyring()
    return ring.decrypt(token)


def blind_index(normalised: str, *, purpose: str) -> str:
    return keyring().blind_index(normalised, purpose=purpose)


def encrypt_many(values: Sequence[str]) -> list[str]:
    return keyring().encrypt_many(values)


def blind_index_many(values: Iterable[str], *, purpose: str) -> list[str]:
    return keyring().blind_index_many(values, purpose=purpose)
