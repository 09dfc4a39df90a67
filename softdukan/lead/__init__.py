"""Demo requests and contact messages from the public site, handled by staff in the backoffice."""
