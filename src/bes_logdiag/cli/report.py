"""``bes-logdiag report``: being built (placeholder registering nothing yet)."""
