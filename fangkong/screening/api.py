"""The screening API, mounted at /api/screening/."""

from ninja import Router

router = Router(tags=["screening"])
