"""Importing push lists and assist-request files (xlsx, csv) into arrivals.

`reading` finds the header row under any title rows, recognises Chinese headers and
synonyms (or the source's saved mapping) and validates every row before anything is written:
one bad row and nothing is written, every problem named by row, column and reason (`report`:
as an xlsx). `writing` is set-based: the new arrivals in one bulk insert that skips persons
someone opened meanwhile (merged into instead), their sources, the merged arrivals' update
and the tally, each one statement. `batches` runs a file at once (command line) or through
the worker (page), and recognises the same file twice by its SHA-256. The verification work
(one assignment per arrival) follows in the `screening.hand_out` job, enqueued in the same
transaction.
"""

from fangkong.screening.imports.batches import (
    IMPORT_JOB,
    MAX_IMPORT_BYTES,
    MSG_DUPLICATE_FILE,
    ImportRejected,
    import_file,
    import_start,
    mapping_save,
    progress_clear,
    progress_read,
    progress_writer,
    run_batch,
    saved_mapping,
)
from fangkong.screening.imports.reading import (
    MAX_ROWS,
    REASONS,
    Row,
    RowError,
    read_header,
    validate,
)
from fangkong.screening.imports.report import report_xlsx
from fangkong.screening.imports.writing import HAND_OUT_JOB, ImportResult, commit

__all__ = [
    "HAND_OUT_JOB",
    "IMPORT_JOB",
    "MAX_IMPORT_BYTES",
    "MAX_ROWS",
    "MSG_DUPLICATE_FILE",
    "REASONS",
    "ImportRejected",
    "ImportResult",
    "Row",
    "RowError",
    "commit",
    "import_file",
    "import_start",
    "mapping_save",
    "progress_clear",
    "progress_read",
    "progress_writer",
    "read_header",
    "report_xlsx",
    "run_batch",
    "saved_mapping",
    "validate",
]
