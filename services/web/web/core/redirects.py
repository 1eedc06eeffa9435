"""Where to go after signing in: only a path of this site, never another host (no open redirect)."""

from __future__ import annotations

from urllib.parse import urlsplit

HOME = "/my/cases"


def safe_next(target: str | None) -> str:
    """`target` when it is a local path (`/…`, not `//host` or `/\\host`), else the home page."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return HOME
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(c) < 32 for c in target):
        return HOME
    return target
