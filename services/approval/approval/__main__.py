"""`python -m approval`."""

from approval.inject import main

main()
