"""A service process freezes what it built before it serves, so full collections skip it."""

from __future__ import annotations

import gc

from shared.runtime import app as app_module
from shared.settings import Settings


def test_run_freezes_the_built_heap_before_serving(monkeypatch):
    seen: list[int] = []
    monkeypatch.setattr(app_module, "serve", lambda app, settings: seen.append(gc.get_freeze_count()))
    monkeypatch.setattr(app_module, "configure_logging", lambda *args: None)
    built = []
    gc.unfreeze()
    try:
        app_module.run(lambda settings: built.append(object()) or "app", Settings())
        assert built and seen and seen[0] > 0  # frozen by the time it serves, the built objects among them
    finally:
        gc.unfreeze()
