from django.conf import settings
from django.urls import URLPattern, URLResolver, include, path

from fangkong.api import api

urlpatterns: list[URLPattern | URLResolver] = [
    path("", include("fangkong.command.urls")),
    path("accounts/", include("fangkong.accounts.urls")),
    path("jurisdictions/", include("fangkong.jurisdictions.urls")),
    path("people/", include("fangkong.people.urls")),
    path("places/", include("fangkong.places.urls")),
    path("notifications/", include("fangkong.notifications.urls")),
    path("assignments/", include("fangkong.assignments.urls")),
    path("control/", include("fangkong.control.urls")),
    path("screening/", include("fangkong.screening.urls")),
    path("tracing/", include("fangkong.tracing.urls")),
    path("testing/", include("fangkong.mass_testing.urls")),
    path("keypop/", include("fangkong.key_populations.urls")),
    path("sentinel/", include("fangkong.sentinel.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", api.urls),
]

if settings.DEBUG:  # pragma: no cover
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()
