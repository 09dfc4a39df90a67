"""A faithful local Razorpay under /sandbox/razorpay: REST API with Basic auth (orders, payments, refunds), the
hosted checkout page, signed webhooks delivered by jobs with retries, and a control API under `_sandbox/`."""
