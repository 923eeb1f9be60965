"""The durable job engine: every side effect runs here, from rows in the `job` table.

Handlers raise `jobs.errors.RetryLater` or `PermanentFailure` to steer their job; any other
exception is a failed attempt. `jobs.worker.Worker` claims and runs jobs; `jobs.runner`
runs one as a process; `jobs.cli.app` and `jobs.metrics` are for operators.
"""
