"""The lake API, mounted at /api/lake/."""

from ninja import Router

router = Router(tags=["lake"])
