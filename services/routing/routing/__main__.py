"""Run the routing service."""

from routing.inject import main

main()
