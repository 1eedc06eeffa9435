"""Run the intake service."""

from intake.inject import main

main()
