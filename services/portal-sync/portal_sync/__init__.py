"""The portal_sync service."""
