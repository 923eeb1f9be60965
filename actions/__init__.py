"""Features: what a job does (a tap's external action, the reconcile, the backfill).

Called by the job handlers that `leadrelay` wires; imports the job engine, the
integrations, storage and config below it, never `bot`, `webhooks` or `leadrelay`.
"""
