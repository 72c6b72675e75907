"""Run the command line as `python -m feedbackvault.cli`."""

from feedbackvault.cli import main

main()
