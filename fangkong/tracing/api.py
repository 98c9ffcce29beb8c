"""The tracing API, mounted at /api/tracing/."""

from ninja import Router

router = Router(tags=["tracing"])
