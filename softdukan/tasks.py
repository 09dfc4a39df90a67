"""Imports every module that registers tasks, so runners and workers know them all (and every model,
so a job row's foreign keys resolve in any process)."""

import softdukan.models
import softdukan.notification.tasks
import softdukan.platform.idempotency
import softdukan.platform.jobs.maintenance  # noqa: F401
