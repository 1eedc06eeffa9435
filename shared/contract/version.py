CONTRACT_VERSION = "1"
"""Major version of the message contract; bumped only on a breaking change."""
