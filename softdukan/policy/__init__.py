"""Versioned policy documents: the Cancellation & Refund Policy, the Terms of Service and the Privacy Policy."""
