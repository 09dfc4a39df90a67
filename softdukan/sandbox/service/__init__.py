"""The sandbox's Python API (same process as the product): what the control API does, callable directly.

Every function takes the caller's unit of work first and never commits.
"""

from softdukan.sandbox.graph.coexistence import business_app_sends
from softdukan.sandbox.graph.commerce import customer_pays
from softdukan.sandbox.graph.profile import Profile, load_profile, update_profile
from softdukan.sandbox.service.accounts import (
    add_foreign_number,
    exchange_code,
    last_code,
    provision,
    signup,
    upsert_app,
)
from softdukan.sandbox.service.customers import (
    customer_plays,
    customer_reads,
    customer_sends,
    list_customers,
    thread,
    upsert_customer,
)

__all__ = [
    "Profile",
    "add_foreign_number",
    "business_app_sends",
    "customer_pays",
    "customer_plays",
    "customer_reads",
    "customer_sends",
    "exchange_code",
    "last_code",
    "list_customers",
    "load_profile",
    "provision",
    "signup",
    "thread",
    "update_profile",
    "upsert_app",
    "upsert_customer",
]
