"""`make bench`'s end-to-end half: claim journeys through the whole local stack, timed to the portal record."""
