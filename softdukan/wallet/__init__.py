"""The prepaid WhatsApp credits wallet (issue 5): rate cards, holds on every billable send, settlement from
Meta's pricing webhooks, the ₹0 stop, and usage. The money itself lives in the ledger (softdukan/ledger)."""
