"""Run the notifier service."""

from notifier.inject import main

main()
