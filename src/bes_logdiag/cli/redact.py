"""``bes-logdiag redact``: being built (placeholder registering nothing yet)."""
