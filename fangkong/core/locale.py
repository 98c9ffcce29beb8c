"""The UI language: Simplified Chinese unless the user chose another with the language switch.

Django's LocaleMiddleware also follows the browser's Accept-Language header, which on many
office machines says English; the command office wants Chinese by default, so only the
explicit choice (the language cookie set by /i18n/setlang/) overrides it.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from django.utils.translation import check_for_language


class ChosenLanguageMiddleware(LocaleMiddleware):
    def process_request(self, request: HttpRequest) -> None:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        language = chosen if chosen and check_for_language(chosen) else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
