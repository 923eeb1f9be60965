"""The durable job engine: every side effect runs here, from rows in the `job` table.

It knows nothing of what its jobs do: a kind is a name and a `parse` of its stored payload
(`jobs.registry`), the rate of a rate-limit key is the caller's (`jobs.ratelimit`), and it
imports only the storage of its tables. Handlers raise `jobs.errors.RetryLater` or
`PermanentFailure` to steer their job; any other exception is a failed attempt.
`jobs.worker.Worker` claims and runs jobs; `jobs.runner` runs one as a process;
`jobs.cli.build_app` and `jobs.metrics` are for operators.
"""
