"""Makes `notifier` importable even where the editable install predates the package (see docs/notifier.md)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

SERVICE_ROOT = Path(__file__).resolve().parents[3] / "services" / "notifier"
if importlib.util.find_spec("notifier") is None:
    sys.path.insert(0, str(SERVICE_ROOT))
