"""A bound on uploaded bytes before any view sees them.

Django writes a multipart file to memory or to a temporary file as it arrives; a 10 GB upload
would be written to disk in full before `core.uploads.check_upload` could refuse it. This
handler, first in FILE_UPLOAD_HANDLERS, counts each file's bytes as they arrive and stops
keeping them past FANGKONG_UPLOAD_MAX_BYTES: the rest of the body is read and discarded, the
temporary file is removed, and the view receives an empty placeholder whose `size` is the real
size, so `check_upload` refuses it as too large (upload.too_large) without reading anything.
Memory and disk used by one file stay within the limit whatever the client sends.
"""

from __future__ import annotations

import io
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import InMemoryUploadedFile, UploadedFile
from django.core.files.uploadhandler import TemporaryFileUploadHandler

from fangkong.core.uploads import UploadRefused


class OversizedUpload(InMemoryUploadedFile):
    """What a view gets for a file over the limit: no content, its real size."""

    def __init__(self, name: str, content_type: str | None, size: int, limit: int) -> None:
        super().__init__(io.BytesIO(b""), "file", name, content_type, size, None)
        self.limit = limit

    def read(self, *args: Any, **kwargs: Any) -> bytes:
        """A view that reads instead of asking `check_upload` still cannot get partial bytes."""
        raise UploadRefused(
            "upload.too_large", f"The file is larger than {self.limit} bytes", max_bytes=self.limit
        )


class BoundedUploadHandler(TemporaryFileUploadHandler):
    """Keeps at most FANGKONG_UPLOAD_MAX_BYTES of each file; counts the rest."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limit: int = settings.FANGKONG_UPLOAD_MAX_BYTES
        self.seen = 0
        self.oversized = False

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        self.seen = 0
        self.oversized = False
        super().new_file(*args, **kwargs)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.seen += len(raw_data)
        if self.oversized:
            return None  # read and dropped
        if self.seen > self.limit:
            self.oversized = True
            self.file.truncate(0)  # release what was kept; the file is refused anyway
            return None
        return super().receive_data_chunk(raw_data, start)

    def file_complete(self, file_size: int) -> UploadedFile | None:
        if not self.oversized:
            return super().file_complete(file_size)
        self.file.close()  # a NamedTemporaryFile: closing removes it
        return OversizedUpload(self.file_name or "file", self.content_type, self.seen, self.limit)
