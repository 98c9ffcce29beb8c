from __future__ import annotations

import datetime as dt

from ninja import Field, Schema


class NotificationOut(Schema):
    id: int
    kind: str
    subject: str
    body: str
    link: str
    created_at: dt.datetime
    read_at: dt.datetime | None


class MarkReadIn(Schema):
    ids: list[int] = Field(default_factory=list, max_length=500)
    all: bool = False


class MarkReadOut(Schema):
    marked: int


class UnreadOut(Schema):
    unread: int
