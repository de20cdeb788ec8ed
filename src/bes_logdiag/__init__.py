"""bes-logdiag: diagnose BlackBerry Enterprise Server wireless enterprise activations from BES logs."""

__version__ = "0.1.0"
