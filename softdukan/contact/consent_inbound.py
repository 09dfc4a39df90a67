"""What consent does with a customer's inbound message (issue 4 item 2), called by conversation routing once per
new message (conversation/routing.py `receive_message`), inside the routing job's unit of work. Never commits.

- A text that is an opt-out keyword, a reply button or list row whose id or title is one, a template quick reply
  whose payload or text is one, or a tap on a template button the organization marked "stop promotions": the
  contact is opted out of marketing at once (`opted_out_at`, a timeline event, a live event) and gets the
  confirmation reply — free-form, since the customer just wrote and the window is open — through the normal send
  path (`conversation.send.send_message`: row + send job in this transaction). Opt-in keywords (START …) opt back
  in the same way.
- A blocked contact's messages are stored and shown as usual, but marked not for automations and never answered
  (a keyword still records their consent).

Once per message: the `inbound_consent_actions` row is inserted with ON CONFLICT DO NOTHING on the message id
before anything else happens; if the row exists already, nothing happens again (routing a message twice, or a job
retried after a crash that committed, never opts out or replies twice).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from softdukan.auth.subject import Subject
from softdukan.contact.consent import consent_service
from softdukan.contact.consent_models import (
    BLOCKED_INBOUND,
    KEYWORD_OPT_IN,
    KEYWORD_OPT_OUT,
    InboundConsentAction,
)
from softdukan.contact.keywords import (
    WORD_MAX,
    ConsentRepository,
    Keywords,
    keyword_service,
    normalize,
    quick_replies,
)
from softdukan.contact.models import OPTED_IN, OPTED_OUT, Contact
from softdukan.conversation.models import Conversation
from softdukan.conversation.send import Target, send_message
from softdukan.kit.upsert import insert_ignore
from softdukan.number.models import PhoneNumber
from softdukan.platform.errors import DomainError, NotFound
from softdukan.platform.uow import UnitOfWork
from softdukan.whatsapp.messages import MessageValidationError, TextMessage
from softdukan.whatsapp.webhook.messages import ButtonContent, Content, InteractiveContent, TextContent

TAPPABLE = ("button_reply", "list_reply")
BLOCKED_REPLY_SKIPPED = "The contact is blocked, so they get no reply."


@dataclass(frozen=True)
class Decision:
    action: str  # KEYWORD_OPT_OUT | KEYWORD_OPT_IN
    source: str  # ContactEvent.source: keyword | button
    trigger: str  # what the customer did, for the timeline and the record


def _said(content: Content) -> tuple[str | None, ...]:
    if isinstance(content, TextContent):
        return (content.body,)
    if isinstance(content, ButtonContent):
        return (content.payload, content.text)
    if isinstance(content, InteractiveContent) and content.kind in TAPPABLE:
        return (content.reply_id, content.title)
    return ()


def _sent_quick_reply_index(sent: dict[str, Any], payload: str | None) -> int | None:
    """The index of the quick-reply button we sent `payload` for (the business may attach payloads per button)."""
    if not payload:
        return None
    for component in sent.get("components") or []:
        if not isinstance(component, dict) or str(component.get("type", "")).lower() != "button":
            continue
        for param in component.get("parameters") or []:
            if isinstance(param, dict) and param.get("type") == "payload" and param.get("payload") == payload:
                index = str(component.get("index", ""))
                return int(index) if index.isdigit() else None
    return None


async def _marked_button(uow: UnitOfWork, organization_id: int, content: ButtonContent,
                         replied_to: dict[str, Any] | None) -> str | None:
    """'button N of template T' when the customer tapped a button marked "stop promotions", else None."""
    template_id = (replied_to or {}).get("template_id")
    if not isinstance(template_id, int):
        return None
    reader = Subject(kind="system", organization_id=organization_id, permissions=frozenset({"templates:read"}),
                     label="consent")
    try:
        template = await keyword_service.template_of(uow, reader, template_id)
    except NotFound:
        return None  # deleted since it was sent
    buttons = quick_replies(template)
    index = _sent_quick_reply_index(replied_to or {}, content.payload)
    if index is None:  # no payload of ours: WhatsApp sends the button's text as the payload
        index = next((i for i, text in buttons if normalize(text) in {normalize(content.text),
                                                                       normalize(content.payload)}), None)
    if index is None or not await ConsentRepository(uow.session).is_stop_button(organization_id, template_id, index):
        return None
    return f"button {index} of template {template.name}"


async def decide(uow: UnitOfWork, organization_id: int, keywords: Keywords, content: Content,
                 replied_to: dict[str, Any] | None) -> Decision | None:
    """What this message asks of consent, if anything."""
    if isinstance(content, ButtonContent):
        marked = await _marked_button(uow, organization_id, content, replied_to)
        if marked:
            return Decision(KEYWORD_OPT_OUT, "button", marked)
    matched = keywords.match(*_said(content))
    if matched is None:
        return None
    kind, word = matched
    return Decision(KEYWORD_OPT_OUT if kind == "opt_out" else KEYWORD_OPT_IN, "keyword", f'keyword "{word}"')


async def _claim(uow: UnitOfWork, contact: Contact, message_id: int, action: str, trigger: str | None
                 ) -> InboundConsentAction | None:
    """The message's consent record, inserted now; None if an earlier routing of it inserted it already."""
    now = uow.clock.now()
    statement = insert_ignore(uow.session, InboundConsentAction, ["message_id"]).returning(InboundConsentAction.id)
    inserted = (await uow.session.execute(statement, [{
        "organization_id": contact.organization_id, "message_id": message_id, "contact_id": contact.id,
        "action": action, "trigger": (trigger or "")[:120] or None, "route_to_automations": False,
        "created_at": now}])).scalar_one_or_none()
    if inserted is None:
        return None
    return await uow.session.get(InboundConsentAction, inserted)


async def _reply(uow: UnitOfWork, phone: PhoneNumber, conversation: Conversation, contact: Contact,
                 text: str) -> tuple[int | None, str | None]:
    """Sends the confirmation through the send path; (message id, None) or (None, why it was not sent)."""
    sender = Subject(kind="system", organization_id=contact.organization_id,
                     permissions=frozenset({"conversations:write"}), label="Consent keywords")
    try:
        row = await send_message(uow, sender, target=Target(phone, contact, conversation),
                                 message=TextMessage(body=text))
    except (DomainError, MessageValidationError) as exc:
        return None, str(getattr(exc, "message", exc))[:200]
    return row.id, None


async def on_customer_message(uow: UnitOfWork, phone: PhoneNumber, conversation: Conversation, contact: Contact,
                              message_id: int, content: Content, replied_to: dict[str, Any] | None
                              ) -> InboundConsentAction | None:
    """Applies a keyword or marked button, and marks a blocked contact's message; None when there was nothing to
    do (or it was done when this message was routed before). `replied_to`: the content of the message the customer
    replied to (a template tap's context), if any."""
    blocked = contact.blocked_at is not None
    if not blocked and not isinstance(content, ButtonContent) and not any(
            0 < len(normalize(text)) <= 2 * WORD_MAX for text in _said(content)):  # casefold may lengthen
        return None  # most messages: too long (or not text) to be a keyword; no settings read on the hot path
    keywords = await keyword_service.keywords(uow, contact.organization_id)
    decision = await decide(uow, contact.organization_id, keywords, content, replied_to)
    if decision is None and not blocked:
        return None
    record = await _claim(uow, contact, message_id, decision.action if decision else BLOCKED_INBOUND,
                          decision.trigger if decision else None)
    if record is None or decision is None:
        return record
    kind = OPTED_OUT if decision.action == KEYWORD_OPT_OUT else OPTED_IN
    await consent_service.customer_opted(uow, contact, kind, source=decision.source,
                                         actor=f"the customer ({decision.trigger})")
    if blocked:
        record.reply_skipped = BLOCKED_REPLY_SKIPPED
    else:
        text = keywords.opt_out_reply if kind == OPTED_OUT else keywords.opt_in_reply
        record.reply_message_id, record.reply_skipped = await _reply(uow, phone, conversation, contact, text)
    await uow.flush()
    return record
