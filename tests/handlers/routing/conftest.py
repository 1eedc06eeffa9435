"""Make the routing package importable even where the editable install predates it."""

import sys
from pathlib import Path

_PKG_ROOT = str(Path(__file__).resolve().parents[3] / "services" / "routing")
if _PKG_ROOT not in sys.path:
    sys.path.insert(0, _PKG_ROOT)
