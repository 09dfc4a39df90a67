"""Imports every module that registers tasks, so runners and workers know them all (and every model,
so a job row's foreign keys resolve in any process)."""

import softdukan.broadcast.tasks
import softdukan.contact.importing.tasks
import softdukan.conversation.media.fetch
import softdukan.conversation.receipts
import softdukan.conversation.tasks
import softdukan.demo_broadcasts
import softdukan.inbound.tasks
import softdukan.models
import softdukan.notification.tasks
import softdukan.number.tasks
import softdukan.payments.tasks
import softdukan.platform.idempotency
import softdukan.platform.jobs.maintenance
import softdukan.refund.execution  # Razorpay refund webhooks and the payout job
import softdukan.sandbox.graph.tasks
import softdukan.sandbox.razorpay.tasks
import softdukan.subscription.purchase  # Razorpay handlers: apply a paid plan order
import softdukan.subscription.tasks
import softdukan.wallet.recharge  # Razorpay handlers: credit the wallet on a captured payment
import softdukan.wallet.reconcile
import softdukan.wallet.tasks  # noqa: F401
