"""Domain errors. Each interface maps them to its status once (API: fangkong.api; pages: views).

NotFound is also what "not yours" looks like: a row outside the caller's scope is missing.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status = 400

    def __init__(self, code: str, message: str = "", **detail: Any) -> None:
        super().__init__(message or code)
        self.code = code
        self.message = message or code
        self.detail = detail

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "detail": self.detail}


class Invalid(DomainError):
    status = 422


class NotFound(DomainError):
    status = 404

    def __init__(self, code: str = "not_found", message: str = "Not found", **detail: Any) -> None:
        super().__init__(code, message, **detail)


class NotAllowed(DomainError):
    status = 403


class Conflict(DomainError):
    status = 409
