"""``python -m survkit.cli`` runs the command line."""

from . import main

main()
