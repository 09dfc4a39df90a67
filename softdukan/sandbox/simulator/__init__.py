"""The phone simulator (`/sandbox/phone`): a person plays a virtual customer of the sandbox.

It exists only when `settings.sandbox` is on, like Meta's own test phone: no product sign-in, CSRF-checked
forms, and every action goes through the sandbox's Python services (`softdukan.sandbox.service`) in the
request's unit of work, so the business gets the same signed webhooks a real phone would cause.
"""
