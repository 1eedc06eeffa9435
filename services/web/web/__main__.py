"""`python -m web`."""

from web.inject import main

main()
