"""The supplier on every document: the company that runs SoftDukan, from configuration (SUPPLIER_*)."""

from __future__ import annotations

from dataclasses import dataclass

from softdukan.billing.gstin import parse_gstin
from softdukan.config import Settings


@dataclass(frozen=True)
class Supplier:
    name: str
    address: str
    state: str  # GST state code, the GSTIN's first two digits
    gstin: str
    sac: str  # the default SAC of a line


def supplier_of(settings: Settings) -> Supplier:
    """The configured supplier; config.py has already refused an invalid GSTIN or one of another state."""
    gstin = parse_gstin(settings.supplier_gstin, field="SUPPLIER_GSTIN")
    return Supplier(settings.supplier_legal_name, settings.supplier_address, settings.supplier_state, gstin.value,
                    settings.supplier_sac)
