"""The JSON API root: /api/. Token or session auth; domain errors as {code, message, detail}."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.openapi.schema import OpenAPISchema
from ninja.security import APIKeyCookie, HttpBearer

from fangkong.accounts.scoping import actor_for_token, client_ip
from fangkong.core.actor import Actor
from fangkong.core.errors import DomainError


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Actor | None:
        return actor_for_token(token, ip=client_ip(request))


class SessionActorAuth(APIKeyCookie):
    """Signed-in staff using the API from the browser; ninja checks CSRF for cookie auth."""

    param_name = settings.SESSION_COOKIE_NAME

    def authenticate(self, request: HttpRequest, key: str | None) -> Actor | None:
        actor: Actor | None = getattr(request, "actor", None)
        return actor


# Every operation can answer with the error envelope; the document says so, once, here.
ERROR_RESPONSES = {
    "400": "Bad request",
    "401": "Authentication required",
    "403": "Not allowed",
    "404": "Not found (also: outside the caller's scope)",
    "409": "Conflict with the current state",
    "422": "Request is not valid",
}
ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "properties": {
        "code": {"type": "string"},
        "message": {"type": "string"},
        "detail": {"type": "object"},
    },
    "required": ["code", "message", "detail"],
}


class FangkongAPI(NinjaAPI):
    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        """Ninja's document plus the error responses every operation can give."""
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
        ref = {"$ref": "#/components/schemas/Error"}
        for operations in schema["paths"].values():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                for code, description in ERROR_RESPONSES.items():
                    responses.setdefault(
                        code,
                        {
                            "description": description,
                            "content": {"application/json": {"schema": ref}},
                        },
                    )
        return schema


api = FangkongAPI(
    title="Fangkong API",
    version="1",
    auth=[TokenAuth(), SessionActorAuth()],
    urls_namespace="api",
    docs_url="/docs",
)


def _error(
    request: HttpRequest, status: int, code: str, message: str, detail: Any = None
) -> HttpResponse:
    return api.create_response(
        request, {"code": code, "message": message, "detail": detail or {}}, status=status
    )


@api.exception_handler(DomainError)
def on_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return _error(request, exc.status, exc.code, exc.message, exc.detail)


@api.exception_handler(AuthenticationError)
def on_auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, 401, "unauthenticated", "Authentication required")


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    """Ninja's own errors (an unparsable body: 400) in the same envelope as the others."""
    code = "bad_request" if exc.status_code == 400 else "http_error"
    return _error(request, exc.status_code, code, str(exc))


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, "not_found", "Not found")


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return _error(request, 422, "invalid", "Request is not valid", {"errors": exc.errors})


class MeOut(Schema):
    kind: str
    label: str
    role: str
    jurisdictions: list[str]
    permissions: list[str]


@api.get("/me", response=MeOut, tags=["accounts"])
def me(request: HttpRequest) -> MeOut:
    """Who the caller is: lets a machine client check its token and scope."""
    actor: Actor = request.auth  # type: ignore[attr-defined]
    return MeOut(
        kind=actor.kind,
        label=actor.label,
        role=actor.role,
        jurisdictions=list(actor.scope.paths),
        permissions=sorted(p.value for p in actor.scope.perms),
    )


def _register_routers() -> None:
    from fangkong.assignments.api import router as assignments
    from fangkong.control.api import router as control
    from fangkong.jurisdictions.api import router as jurisdictions
    from fangkong.key_populations.api import router as key_populations
    from fangkong.lake.api import router as lake
    from fangkong.mass_testing.api import router as mass_testing
    from fangkong.notifications.api import router as notifications
    from fangkong.people.api import router as people
    from fangkong.places.api import router as places
    from fangkong.screening.api import router as screening
    from fangkong.sentinel.api import router as sentinel
    from fangkong.tracing.api import router as tracing

    api.add_router("/jurisdictions", jurisdictions)
    api.add_router("/people", people)
    api.add_router("/places", places)
    api.add_router("/notifications", notifications)
    api.add_router("/assignments", assignments)
    api.add_router("/control", control)
    api.add_router("/screening", screening)
    api.add_router("/tracing", tracing)
    api.add_router("/lake", lake)
    api.add_router("/testing", mass_testing)
    api.add_router("/keypop", key_populations)
    api.add_router("/sentinel", sentinel)


_register_routers()
