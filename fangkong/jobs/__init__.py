"""A database-backed job queue that needs no broker (docs/decisions/0005-job-queue.md).

Public API: `registry.job`, `registry.periodic`, `services.enqueue`, `services.run_due`,
`services.enqueue_periodic`, the `fangkong worker` command, and `selectors`.
"""
