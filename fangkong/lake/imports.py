"""File import of check-ins and dwell records: csv (through the upload gate) or Parquet.

The file lands whole or not at all (every row is checked first; errors name row, column and
reason), and the same file twice stores nothing twice (the ledger key is the file's sha256).
"""

from __future__ import annotations

import hashlib
import io
from typing import IO

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from fangkong.core.actor import Actor
from fangkong.core.errors import Invalid
from fangkong.core.uploads import UploadRefused, check_upload
from fangkong.lake import services
from fangkong.lake.layout import CHECKINS, DWELL, TableSpec
from fangkong.lake.models import IngestBatch

MAX_FILE_BYTES = 512 * 1024 * 1024
MAX_FILE_ROWS = 5_000_000
_PARQUET_MAGIC = b"PAR1"


def read_table_file(data: bytes, spec: TableSpec) -> pa.Table:
    """The file's rows with the table's columns (int64). Raises Invalid naming what is wrong."""
    try:
        if data.startswith(_PARQUET_MAGIC) and data.endswith(_PARQUET_MAGIC):
            handle = pq.ParquetFile(io.BytesIO(data))
            missing = [n for n in spec.schema.names if n not in handle.schema_arrow.names]
            if missing:
                raise Invalid("lake.file_columns", "Missing columns", columns=missing)
            if handle.metadata.num_rows > MAX_FILE_ROWS:
                raise Invalid("lake.file_rows", f"At most {MAX_FILE_ROWS} rows per file")
            table = handle.read(columns=spec.schema.names)
        else:
            kind, text = check_upload(data, max_bytes=MAX_FILE_BYTES, allowed={"csv"})
            del kind
            head = text.split(b"\n", 1)[0].decode("utf-8-sig").strip().split(",")
            missing = [n for n in spec.schema.names if n not in [h.strip() for h in head]]
            if missing:
                raise Invalid("lake.file_columns", "Missing columns", columns=missing)
            table = pacsv.read_csv(
                io.BytesIO(text),
                read_options=pacsv.ReadOptions(encoding="utf-8-sig"),
                convert_options=pacsv.ConvertOptions(
                    include_columns=spec.schema.names,
                    column_types=dict.fromkeys(spec.schema.names, pa.int64()),
                ),
            )
    except UploadRefused:
        raise
    except (pa.ArrowException, OSError, ValueError) as exc:
        # Arrow names the column and the offending value; no row of the file is echoed whole.
        raise Invalid("lake.file_unreadable", f"The file cannot be read: {str(exc)[:300]}") from exc
    if table.num_rows > MAX_FILE_ROWS:
        raise Invalid("lake.file_rows", f"At most {MAX_FILE_ROWS} rows per file")
    nulls = [n for n in spec.schema.names if table.column(n).null_count]
    if nulls:
        raise Invalid("lake.file_empty_cells", "Some cells are empty", columns=nulls)
    return table.select(spec.schema.names).cast(spec.schema)


def _import(actor: Actor, spec: TableSpec, file: bytes | IO[bytes]) -> services.IngestResult:
    data = file if isinstance(file, bytes) else file.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise UploadRefused("upload.too_large", f"The file is larger than {MAX_FILE_BYTES} bytes")
    table = read_table_file(data, spec)
    ingest = services.checkins_ingest if spec is CHECKINS else services.dwell_ingest
    return ingest(
        actor,
        client_id="file",
        batch_id=hashlib.sha256(data).hexdigest(),
        rows=table,
        source=IngestBatch.Source.FILE,
        max_rows=MAX_FILE_ROWS,
    )


def checkins_import(actor: Actor, *, file: bytes | IO[bytes]) -> services.IngestResult:
    """Import a csv or Parquet file of check-ins (person_id, venue_id, ts)."""
    return _import(actor, CHECKINS, file)


def dwell_import(actor: Actor, *, file: bytes | IO[bytes]) -> services.IngestResult:
    """Import a csv or Parquet file of dwell records (person_id, cell_id, start_ts, end_ts)."""
    return _import(actor, DWELL, file)
