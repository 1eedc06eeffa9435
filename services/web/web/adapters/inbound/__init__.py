"""Inbound adapters: the pages (FastAPI routes), the session cookie, the rendering."""
