"""Key files: several encryption keys, the current one, and adding the next."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from fangkong.core import crypto


def _ring(keys_dir: Path, *, generate: bool = True) -> crypto.KeyRing:
    with override_settings(KEYS_DIR=keys_dir, FANGKONG_ENCRYPTION_KEYS=""):
        return crypto.load_keyring(generate=generate)


def test_an_empty_keys_dir_gets_k1_in_generate_mode(tmp_path: Path) -> None:
    ring = _ring(tmp_path)
    assert ring.current_kid == "k1"
    assert (tmp_path / "encryption-k1.key").exists()
    assert ring.decrypt(ring.encrypt("欧阳明镜")) == "欧阳明镜"


def test_missing_key_files_fail_outside_generate_mode(tmp_path: Path) -> None:
    with pytest.raises(ImproperlyConfigured, match="Missing key file"):
        _ring(tmp_path, generate=False)


def test_the_added_key_becomes_current_and_old_ciphertext_stays_readable(tmp_path: Path) -> None:
    old = _ring(tmp_path)
    token = old.encrypt("13912398765")
    assert crypto.key_file_add(tmp_path) == "k2"
    new = _ring(tmp_path, generate=False)
    assert new.current_kid == "k2"
    assert list(new.keys) == ["k2", "k1"]
    assert new.encrypt("x").startswith("k2$")
    assert new.decrypt(token) == "13912398765"
    assert new.blind_key == old.blind_key


def test_without_a_current_marker_the_highest_number_wins(tmp_path: Path) -> None:
    _ring(tmp_path)
    for _ in range(10):
        crypto.key_file_add(tmp_path)
    (tmp_path / crypto.CURRENT_FILE).unlink()
    assert _ring(tmp_path, generate=False).current_kid == "k11"  # numeric, not "k9" > "k11"


def test_a_current_marker_naming_a_missing_file_is_refused(tmp_path: Path) -> None:
    _ring(tmp_path)
    (tmp_path / crypto.CURRENT_FILE).write_text("k7\n")
    with pytest.raises(ImproperlyConfigured, match="k7"):
        _ring(tmp_path, generate=False)


def test_keys_from_the_environment_win_over_files(tmp_path: Path) -> None:
    _ring(tmp_path)
    spec = "k5:" + "A" * 43 + "=,k4:" + "B" * 43 + "="
    with override_settings(KEYS_DIR=tmp_path, FANGKONG_ENCRYPTION_KEYS=spec):
        ring = crypto.load_keyring(generate=False)
    assert ring.current_kid == "k5"
    assert set(ring.keys) == {"k5", "k4"}


def test_a_value_under_a_key_added_since_startup_is_read_after_reloading(
    tmp_path: Path,
) -> None:
    with override_settings(KEYS_DIR=tmp_path, FANGKONG_ENCRYPTION_KEYS=""):
        crypto.keyring.cache_clear()
        try:
            crypto.encrypt("x")  # loads k1
            crypto.key_file_add(tmp_path)
            token = crypto.load_keyring(generate=False).encrypt("皇甫雪莲")
            assert token.startswith("k2$")
            assert crypto.decrypt(token) == "皇甫雪莲"
            assert crypto.keyring().current_kid == "k2"
        finally:
            crypto.keyring.cache_clear()


def test_bulk_encryption_reads_back_and_uses_a_fresh_nonce_per_value(tmp_path: Path) -> None:
    ring = _ring(tmp_path)
    values = ["欧阳明镜", "", "13912398765", "欧阳明镜"]
    tokens = ring.encrypt_many(values)
    assert [ring.decrypt(t) for t in tokens] == values
    assert all(t.startswith("k1$") for t in tokens)
    assert tokens[0] != tokens[3]  # same value, different nonce
    assert ring.encrypt_many([]) == []


def test_bulk_blind_index_equals_the_single_one(tmp_path: Path) -> None:
    ring = _ring(tmp_path)
    values = ["440902199001011234", "", "11010519491231002X"]
    assert ring.blind_index_many(values, purpose="doc") == [
        ring.blind_index(v, purpose="doc") for v in values
    ]
    assert ring.blind_index_many(values[:1], purpose="phone") != ring.blind_index_many(
        values[:1], purpose="doc"
    )
