"""Which store each service of the local stack uses: its own SecantusDB process (the default) or one shared one.

SecantusDB is a Python server: one process uses one core at most. Every service owns its database already, so a
process per service spreads the store's work over every core (`bench/stores.py` measures it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from servers import MongoWire

PER_SERVICE, SHARED = "per-service", "shared"
URL_KEY = "MONGODB_URL"


def layout(environ: Mapping[str, str]) -> str:
    """The STORES switch: `per-service` (default) or `shared`."""
    value = environ.get("STORES", "").strip() or PER_SERVICE
    if value not in (PER_SERVICE, SHARED):
        raise ValueError(f"STORES={value!r}: use {PER_SERVICE} or {SHARED}")
    return value


def url_key(label: str) -> str:
    """The stack.env key that names a service's store URL: MONGODB_URL_<SERVICE> (portal-sync -> PORTAL_SYNC)."""
    return f"{URL_KEY}_{label.upper().replace('-', '_')}"


def start_stores(root: Path, labels: Iterable[str], which: str,
                 log_dir: Path | None = None) -> dict[str, MongoWire]:
    """Service label -> its started store: one process per label, or one process for all."""
    labels = list(labels)
    names = labels if which == PER_SERVICE else ["store"]
    servers = {}
    for name in names:
        label = name if which == SHARED else f"store-{name}"
        servers[name] = MongoWire(root / label, log_file=log_dir / f"{label}.log" if log_dir else None, label=label)
    try:
        # Launched from this thread, not a pool's: a child's PR_SET_PDEATHSIG fires when the thread that
        # started it ends. They boot side by side, each on its own free port of 127.0.0.1.
        for server in servers.values():
            server.launch()
        for server in servers.values():
            server.wait_healthy()
    except BaseException:
        for server in servers.values():
            server.stop()
        raise
    return {label: servers[label if which == PER_SERVICE else "store"] for label in labels}


def store_env(urls: Mapping[str, str]) -> dict[str, str]:
    """stack.env entries: MONGODB_URL (the first service's store, intake's) and MONGODB_URL_<SERVICE> for each."""
    first = next(iter(urls.values()))
    return {URL_KEY: first, **{url_key(label): url for label, url in urls.items()}}


def distinct_urls(env: Mapping[str, str]) -> list[str]:
    """Every store URL an environment names (MONGODB_URL, MONGODB_URL_<SERVICE>), each once, in order."""
    keys = [key for key in env if key == URL_KEY or key.startswith(URL_KEY + "_")]
    return list(dict.fromkeys(env[key] for key in keys))
