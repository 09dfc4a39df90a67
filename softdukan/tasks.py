"""Imports every module that registers tasks, so runners and workers know them all."""

import softdukan.notification.tasks  # noqa: F401
