"""The second factor: TOTP devices and single-use backup codes. Each write is audited.

A session becomes "verified" (see `accounts.sessions`) only through `totp_enrol_confirm`,
`totp_verify` or `backup_code_use`; until then ActorMiddleware gives it no Actor.
"""

from __future__ import annotations

import secrets

from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction

from fangkong.accounts import totp
from fangkong.accounts.models import BackupCode, TotpDevice, User
from fangkong.audit.services import record
from fangkong.core import clock
from fangkong.core.actor import Actor, require
from fangkong.core.errors import Conflict, Invalid
from fangkong.core.perms import Perm

BACKUP_CODE_COUNT = 10
_BACKUP_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read off paper
_BACKUP_LENGTH = 10  # about 50 bits each


def totp_device_of(user: User) -> TotpDevice | None:
    return TotpDevice.objects.filter(user=user).first()


def is_enrolled(user: User) -> bool:
    return TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).exists()


@transaction.atomic
def totp_enrol_begin(*, actor: Actor, user: User) -> TotpDevice:
    """The unconfirmed device to show on the enrolment page (the same one until confirmed).

    Raises Conflict when the account already has a confirmed device (it must be reset first).
    """
    device = TotpDevice.objects.select_for_update().filter(user=user).first()
    if device is not None:
        if device.confirmed_at is not None:
            raise Conflict("totp.enrolled", "This account already has an authenticator")
        return device
    device = TotpDevice.objects.create(user=user, secret=totp.new_secret(), created_at=clock.now())
    record(actor=actor, action="accounts.totp_enrol_begin", target=user)
    return device


def _backup_codes_issue(user: User) -> list[str]:
    BackupCode.objects.filter(user=user).delete()
    codes = [
        "".join(secrets.choice(_BACKUP_ALPHABET) for _ in range(_BACKUP_LENGTH))
        for _ in range(BACKUP_CODE_COUNT)
    ]
    now = clock.now()
    BackupCode.objects.bulk_create(
        BackupCode(user=user, code_hash=make_password(code), created_at=now) for code in codes
    )
    return [f"{code[:5]}-{code[5:]}" for code in codes]


def _accept(device: TotpDevice, code: str) -> bool:
    step = totp.matching_step(device.secret, code, at=clock.now(), after=device.last_step)
    if step is None:
        return False
    # Conditional update (`last_step=None` means IS NULL): of two requests racing with the same
    # code, only one moves the step, even where the row lock is not taken.
    moved = TotpDevice.objects.filter(pk=device.pk, last_step=device.last_step).update(
        last_step=step
    )
    device.last_step = step
    return moved == 1


@transaction.atomic
def totp_enrol_confirm(*, actor: Actor, user: User, code: str) -> list[str]:
    """Confirm the pending device with a code from it; returns fresh backup codes (shown once).

    Raises Invalid on a wrong code, Conflict when there is nothing to confirm.
    """
    device = TotpDevice.objects.select_for_update().filter(user=user).first()
    if device is None or device.confirmed_at is not None:
        raise Conflict(
            "totp.nothing_to_confirm", "There is no authenticator waiting to be confirmed"
        )
    if not _accept(device, code):
        raise Invalid("totp.wrong_code", "The code is wrong or was already used")
    device.confirmed_at = clock.now()
    device.save(update_fields=["confirmed_at"])
    codes = _backup_codes_issue(user)
    record(actor=actor, action="accounts.totp_enrol", target=user)
    return codes


@transaction.atomic
def totp_verify(*, actor: Actor, user: User, code: str) -> None:
    """Check a code from the confirmed device. Raises Invalid when wrong or already used."""
    device = TotpDevice.objects.select_for_update().filter(user=user).first()
    if device is None or device.confirmed_at is None or not _accept(device, code):
        raise Invalid("totp.wrong_code", "The code is wrong or was already used")
    record(actor=actor, action="accounts.totp_verify", target=user)


@transaction.atomic
def backup_code_use(*, actor: Actor, user: User, code: str) -> None:
    """Spend one backup code. Raises Invalid when it is unknown or already used."""
    given = totp.normalize_code(code)
    for row in BackupCode.objects.select_for_update().filter(user=user, used_at__isnull=True):
        if check_password(given, row.code_hash):
            row.used_at = clock.now()
            row.save(update_fields=["used_at"])
            left = BackupCode.objects.filter(user=user, used_at__isnull=True).count()
            record(
                actor=actor, action="accounts.backup_code_use", target=user, detail={"left": left}
            )
            return
    raise Invalid("totp.wrong_code", "The code is wrong or was already used")


@transaction.atomic
def totp_reset(*, actor: Actor, user: User, reason: str) -> User:
    """Remove the account's authenticator and backup codes (lost phone); it enrols again at its
    next sign-in. Its open sessions end, like a move."""
    require(actor, Perm.ACCOUNT_ADMIN)
    TotpDevice.objects.filter(user=user).delete()
    BackupCode.objects.filter(user=user).delete()
    user.scope_version += 1
    user.save(update_fields=["scope_version"])
    record(actor=actor, action="accounts.totp_reset", target=user, reason=reason)
    return user


@transaction.atomic
def totp_provision(*, actor: Actor, user: User, reason: str) -> str:
    """Give the account a new, already confirmed authenticator; returns its secret.

    For operator set-up such as the demo, which prints the secret so that a newcomer can add
    it to an authenticator app and sign in at once.
    """
    require(actor, Perm.ACCOUNT_ADMIN)
    TotpDevice.objects.filter(user=user).delete()
    BackupCode.objects.filter(user=user).delete()
    now, secret = clock.now(), totp.new_secret()
    TotpDevice.objects.create(user=user, secret=secret, created_at=now, confirmed_at=now)
    record(actor=actor, action="accounts.totp_provision", target=user, reason=reason)
    return secret
