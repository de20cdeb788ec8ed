"""``bes-logdiag watch``: being built (placeholder registering nothing yet)."""
