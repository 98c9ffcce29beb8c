"""The sentinel API, mounted at /api/sentinel/."""

from ninja import Router

router = Router(tags=["sentinel"])
