"""Meta's webhooks: signature checks and typed parsing. The one place that knows their wire format."""

from softdukan.whatsapp.webhook.changes import (
    AccountUpdate,
    QualityUpdate,
    TemplateStatusUpdate,
    parse_account_update,
    parse_quality_update,
    parse_template_update,
)
from softdukan.whatsapp.webhook.common import UNKNOWN, PayloadError, WebhookError
from softdukan.whatsapp.webhook.envelope import (
    Change,
    Entry,
    Envelope,
    MessagesValue,
    Metadata,
    WaContact,
    parse_envelope,
    parse_messages_value,
)
from softdukan.whatsapp.webhook.messages import MESSAGE_TYPES, Content, Context, InboundMessage, Referral, parse_message
from softdukan.whatsapp.webhook.signature import HEADER, sign, verify
from softdukan.whatsapp.webhook.statuses import ConversationInfo, MessageStatus, PaymentStatus, Pricing, parse_status

__all__ = ["HEADER", "MESSAGE_TYPES", "UNKNOWN", "AccountUpdate", "Change", "Content", "Context", "ConversationInfo",
           "Entry", "Envelope", "InboundMessage", "MessageStatus", "MessagesValue", "Metadata", "PayloadError",
           "PaymentStatus", "Pricing", "QualityUpdate", "Referral", "TemplateStatusUpdate", "WaContact",
           "WebhookError", "parse_account_update", "parse_envelope", "parse_message", "parse_messages_value",
           "parse_quality_update", "parse_status", "parse_template_update", "sign", "verify"]
