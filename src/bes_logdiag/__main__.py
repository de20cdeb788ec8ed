"""Allow ``python -m bes_logdiag``."""

from bes_logdiag.cli import main

main()
