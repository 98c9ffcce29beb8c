"""The event lake: check-ins and cell-grid dwell records as day-partitioned Parquet; co-presence engine."""
