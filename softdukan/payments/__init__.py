"""Payments through Razorpay: the only place in the product that knows Razorpay's wire format.

- `razorpay.py`   RazorpayClient (orders, payments, refunds), typed results and errors
- `signatures.py` checkout and webhook signatures (constant time, raw bytes)
- `webhooks.py`   POST /webhooks/razorpay: verify, store once (`payment_events`), enqueue processing
- `handlers.py`   `@on_razorpay("payment.captured")`: what other domains do with an event
"""
