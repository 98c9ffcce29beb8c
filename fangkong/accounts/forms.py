"""Sign-in forms: the password step (refused while locked) and the code step."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from fangkong.accounts.scoping import client_ip
from fangkong.accounts.throttle import login_locked

LOCKED_MESSAGE = _("Too many failed attempts. Try again later.")


class SignInForm(AuthenticationForm):
    """Django's sign-in form, which first refuses a locked username or address.

    The lock is checked before the password, so that while locked even the right password
    gets the same refusal and an attacker learns nothing from it.
    """

    locked = False

    def clean(self) -> dict[str, Any]:
        username = str(self.cleaned_data.get("username") or "")
        ip = client_ip(self.request) if self.request is not None else ""
        if login_locked(username=username, ip=ip):
            self.locked = True
            raise forms.ValidationError(LOCKED_MESSAGE, code="locked")
        return super().clean()


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Verification code"),
        max_length=32,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}
        ),
    )
