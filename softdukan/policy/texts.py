"""Version 1 of each policy document: SoftDukan's own wording, seeded on first use (`service.ensure_seeded`).
Later versions are posted by staff in the backoffice and never edited here."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from softdukan.policy.models import PRIVACY, REFUND_POLICY, TERMS

# the date of the published policy (reference/refund-policy.md), midnight India time
SEED_EFFECTIVE_AT = datetime(2025, 10, 8, tzinfo=timezone(timedelta(hours=5, minutes=30)))

REFUND_POLICY_V1 = """\
This policy is meant to be fair: you can try SoftDukan without paying, you know in advance what is and is not
refundable, and refunds for problems on our side are handled openly.

## 1. Free trial

Every new business gets a **14-day free trial** of the Basic plan, with Chatbot Flows included on trial. No card
or other payment method is needed, and nothing is charged during or at the end of the trial. You can cancel the
trial at any time. Each business gets one trial (the same WhatsApp number, GSTIN or owner e-mail cannot start a
second one).

## 2. Subscriptions

Paid plans are billed **yearly, in advance**. A paid subscription is not refundable: the free trial is there so
you can decide before you pay. Cancelling a subscription stops the next renewal, so nothing is charged for the
next year. Nothing renews without your action: we remind you before the end, and a year you don't renew ends
after a grace period.

**Changing plan during a paid year.** An upgrade takes effect at once. You pay the difference between the two
plans' yearly prices for the days left in your current year (to the paisa, plus GST); the year ends on the same
date as before. A move to a cheaper plan is made when you renew; the rest of the current year is not refunded.

## 3. Non-refundable charges

The following are non-refundable, because of what it costs us to provide them:

- plan charges;
- WhatsApp Conversation Credits (wallet top-ups);
- add-ons and third-party integrations;
- one-time setup payments.

A refund request for any of them is refused with this clause cited, unless clause 4 applies.

## 4. Technical issues

If you suffer continuous technical issues that prevent you from using SoftDukan, and our support team has
verified them (on your support tickets), we may grant a partial or full refund at our discretion. A refund is
never more than what you paid and has not already been refunded.

## 5. Cancellation

You may cancel your subscription at any time. The cancellation takes effect at the **end of the current billing
cycle**: you keep access until then, and the remaining period is not refunded.

## 6. Support

For any question, open a support ticket from your dashboard or write to support@softdukan.com. Our support team
answers every ticket.

## 7. How to request a refund

Request a refund from your dashboard, through the API, or by e-mail to support@softdukan.com. Every request must:

- name the transaction (the payment or the invoice number), and
- give a clear written reason.

Requests without them are refused when submitted, with a message saying what is missing. Requests by e-mail are
recorded the same way as requests from the dashboard.

## 8. Changes to this policy

This policy is versioned. A new version takes effect as soon as it is posted; every refund decision records the
version in force when it was made. The current version and every earlier one are always available on this site,
and signed-in customers see a notice when it changes.

## 9. Legal

This policy follows the laws of India where SoftDukan operates. Please also read our
[Terms of Service](/legal/terms) and our [Privacy Policy](/legal/privacy) for your full rights and obligations.

## Contact

Questions about this policy: support@softdukan.com.
"""

TERMS_V1 = """\
These terms are an agreement between SoftDukan Technologies Private Limited ("SoftDukan", "we") and the business
that signs up ("you"). By creating an account you accept them.

## 1. The service

SoftDukan is software for businesses to message their customers on WhatsApp through Meta's official WhatsApp
Business Platform (Cloud API): broadcasts, automation, chatbots, catalogues, payments and a shared inbox.

## 2. Your account

You are responsible for the people you invite, the roles you give them and the API keys you create. Keep your
password and keys secret and tell us at once if you think they were misused.

## 3. Acceptable use

You must follow WhatsApp's Business and Commerce Policies and Indian law. In particular you message only people
who agreed to hear from you, honour opt-outs, and send no spam, fraud, or unlawful content. We may suspend an
account that breaks these rules or that Meta restricts.

## 4. Plans, credits and payment

Plans are billed yearly in advance after a free trial; WhatsApp messages are paid from a prepaid credit wallet in
rupees at the published rates, GST extra. Refunds follow our [Cancellation & Refund Policy](/legal/refund-policy).

## 5. Meta and third parties

Messages travel through Meta's platform, which has its own terms and may change prices, limits or rules. We are
not responsible for Meta's decisions (template rejections, quality ratings, number bans), though we help you with
them.

## 6. Your content and data

You own your contacts, messages and content. You give us the rights needed to run the service for you. How we
handle personal data is described in our [Privacy Policy](/legal/privacy).

## 7. Availability and liability

We work to keep SoftDukan available and secure but do not promise uninterrupted service. To the extent the law
allows, our liability is limited to the amount you paid us in the twelve months before the claim.

## 8. Ending the agreement

You may cancel at any time (effective at the end of the billing cycle). We may end the agreement on notice for a
serious breach. You can export your data before your account closes.

## 9. Changes and law

We post new versions of these terms on this site; they take effect when posted and signed-in customers are
notified. These terms are governed by the laws of India; courts in Bengaluru have jurisdiction.

## Contact

support@softdukan.com
"""

PRIVACY_V1 = """\
This policy explains what personal data SoftDukan Technologies Private Limited handles and why, in line with the
Digital Personal Data Protection Act, 2023.

## 1. Data we process

- **Your account:** names, e-mail addresses and mobile numbers of your team, your business and billing details
  (address, GSTIN), sign-in records.
- **Your customers' data, on your behalf:** WhatsApp numbers, names, attributes and tags you import, messages
  sent and received, consent (opt-in and opt-out) records, orders and payments.
- **Usage and billing:** credit usage, invoices, payments processed by our payment gateway.

## 2. Why

To run the service you signed up for, bill you, keep it secure, answer support requests and meet legal
obligations (tax records). We do not sell personal data and do not use your customers' data for our own
marketing.

## 3. Who processes it

- **Meta Platforms** carries your WhatsApp messages as a processor under the WhatsApp Business terms.
- Our payment gateway processes card, UPI and bank payments; we never see full card numbers.
- Hosting and e-mail providers store and send data for us under contract.

For your customers' data you are the data fiduciary; we process it on your instructions.

## 4. Retention

Account data is kept while your account is open. Messages and contacts are kept until you delete them or close
your account, and then deleted within 90 days. Invoices and payment records are kept for 8 years as Indian tax
law requires.

## 5. Security

Data is encrypted in transit, passwords are stored as salted hashes, access is limited by roles, and sensitive
actions are audited.

## 6. Your rights

You may ask to see, correct, export or delete your personal data, and withdraw consent, by writing to us. You may
also complain to the Data Protection Board of India.

## 7. Changes

New versions are posted on this site and take effect when posted; signed-in customers are notified. See also our
[Terms of Service](/legal/terms) and [Cancellation & Refund Policy](/legal/refund-policy).

## Contact

Grievance officer: support@softdukan.com
"""

SEED: dict[str, tuple[str, str]] = {
    REFUND_POLICY: ("Cancellation & Refund Policy", REFUND_POLICY_V1),
    TERMS: ("Terms of Service", TERMS_V1),
    PRIVACY: ("Privacy Policy", PRIVACY_V1),
}
