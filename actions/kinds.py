"""The kinds of the jobs that run actions: the bot enqueues them, `leadrelay.handlers`
binds each to its executor, the retention keeps or prunes them by kind.

A plain module of names, so the bot and `leadrelay prune` can read them without loading
the clients.
"""

from __future__ import annotations

FLEXBE_STATUS_JOB = "flexbe.status"
CRM5_DEAL_JOB = "crm5.deal"
CALL_JOB = "comunik8.call"
CANCEL_CALL_JOB = "comunik8.cancel"
# One site's comparison with Flexbe (enqueued by the scheduler and by /sync).
RECONCILE_JOB = "flexbe.reconcile"
