"""Imports every module that registers tasks, so runners and workers know them all."""

import softdukan.notification.tasks
import softdukan.platform.idempotency
import softdukan.platform.jobs.maintenance  # noqa: F401
