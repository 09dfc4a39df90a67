"""Refund requests e-mailed to support (policy clause 7), read from the message itself (`.eml`, RFC 5322): uploaded
in the backoffice or given to `softdukan refunds ingest FILE…`.

The message must name its transaction — a Razorpay payment id (`pay_…`) or one of our invoice numbers
(`SD/2627/000123`) — in the subject or the body; that finds the organization. The sender must be a member of
that organization, so nobody asks for a refund of someone else's payment by e-mail. The reason is the subject and
the body without quoted replies and signature. Then the request is weighed exactly as one made in the dashboard.
"""

from __future__ import annotations

import re
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parseaddr
from html import unescape
from pathlib import Path

from sqlalchemy import select

from softdukan.auth.models import User
from softdukan.billing.models import BillingDocument
from softdukan.config import Settings
from softdukan.organization.models import Membership
from softdukan.platform.errors import DomainError, Invalid, NotFound
from softdukan.platform.uow import UnitOfWork
from softdukan.refund.models import RefundRequest
from softdukan.refund.service import record_emailed
from softdukan.subscription.models import PlanOrder
from softdukan.wallet.models import Topup

EML_MAX = 1_000_000
PAYMENT = re.compile(r"\bpay_[A-Za-z0-9]{6,30}\b")
INVOICE = re.compile(r"\bSD/\d{4}/\d{6,8}\b", re.IGNORECASE)
TAGS = re.compile(r"<[^>]+>")


def organization_id_of(text: str) -> int:
    text = text.strip()
    if not text.isdigit() or not 0 < int(text) < 2**53:
        raise Invalid("organization_required", "Give the organization's id (a number, shown in the organization "
                                               "list).", {"organization_id": "required"})
    return int(text)


def _body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    text = part.get_content() if isinstance(part, EmailMessage) else ""
    if part.get_content_type() == "text/html":
        text = unescape(TAGS.sub(" ", text))
    lines = []
    for line in str(text).splitlines():
        if line.strip() in ("--", "-- ") or re.match(r"^On .+ wrote:$", line.strip()):
            break  # the signature or the quoted message below
        if not line.lstrip().startswith(">"):
            lines.append(line)
    return " ".join(" ".join(lines).split())


async def _organization_of(uow: UnitOfWork, ref: str) -> int | None:
    session = uow.session
    if ref.startswith("pay_"):
        for model in (Topup, PlanOrder):
            org = await session.scalar(select(model.organization_id).where(model.razorpay_payment_id == ref))
            if org is not None:
                return int(org)
        return None
    org = await session.scalar(select(BillingDocument.organization_id).where(
        BillingDocument.number == ref.upper(), BillingDocument.doc_type == "invoice"))
    return int(org) if org is not None else None


async def _is_member(uow: UnitOfWork, organization_id: int, email: str) -> bool:
    found = await uow.session.scalar(select(Membership.id).join(User, User.id == Membership.user_id).where(
        Membership.organization_id == organization_id, User.email == email))
    return found is not None


async def ingest(uow: UnitOfWork, data: bytes, *, recorded_by: str) -> RefundRequest:
    if not data.strip():
        raise Invalid("eml_required", "Choose the e-mail (.eml file) to record.", {"eml": "required"})
    if len(data) > EML_MAX:
        raise Invalid("eml_too_large", "An e-mail of at most 1 MB, please.", {"eml": "too large"})
    message = BytesParser(policy=policy.default).parsebytes(data)
    if not isinstance(message, EmailMessage) or not message.get("From"):
        raise Invalid("eml_unreadable", "That file is not an e-mail message (no From header).", {"eml": "unreadable"})
    sender = parseaddr(str(message.get("From", "")))[1].strip().lower()
    subject = " ".join(str(message.get("Subject", "")).split())
    body = _body(message)
    text = f"{subject} {body}"
    refs = PAYMENT.findall(text) + [m.upper() for m in INVOICE.findall(text)]
    if "@" not in sender:
        raise Invalid("requester_required", "The e-mail has no sender address.", {"eml": "no sender"})
    if not refs:
        raise Invalid("transaction_required", f"The e-mail from {sender} names no payment id (pay_…) or invoice "
                                              "number; reply asking for it (policy clause 7).",
                      {"eml": "no transaction"})
    ref = refs[0]
    organization_id = await _organization_of(uow, ref)
    if organization_id is None:
        raise NotFound("transaction_not_found", f"No payment or invoice {ref} exists.", {"eml": "unknown transaction"})
    if not await _is_member(uow, organization_id, sender):
        raise Invalid("sender_not_member", f"{sender} is not a member of the organization that made payment {ref}; "
                                           "only its members may ask for its refund.", {"eml": "sender not a member"})
    reason = body if len(body) >= 40 else f"{subject}. {body}".strip(". ")
    return await record_emailed(uow, organization_id, requester_email=sender, transaction_ref=ref,
                                reason=reason[:2000], recorded_by=recorded_by)


async def ingest_files(settings: Settings, paths: list[Path]) -> list[str]:
    """The `softdukan refunds ingest` command: each file in its own transaction; a line per file."""
    from softdukan.platform.runtime import build_runtime
    from softdukan.platform.uow import unit_of_work

    runtime, lines = build_runtime(settings), []
    try:
        for path in paths:
            try:
                async with unit_of_work(runtime) as uow:
                    created = await ingest(uow, path.read_bytes()[:EML_MAX + 1], recorded_by="softdukan refunds ingest")
                    lines.append(f"{path}: refund request {created.id} ({created.state.replace('_', ' ')})")
            except (DomainError, OSError) as exc:
                lines.append(f"{path}: not recorded: {getattr(exc, 'message', str(exc))}")
    finally:
        await runtime.close()
    return lines
