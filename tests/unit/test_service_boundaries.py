"""Services are peers: no service package imports another's; what they share lives in `shared/`."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = {"intake": "services/intake/intake", "approval": "services/approval/approval",
            "routing": "services/routing/routing", "portal_sync": "services/portal-sync/portal_sync",
            "notifier": "services/notifier/notifier"}


def _imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
    return names


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_a_service_imports_no_other_service(package):
    others = set(PACKAGES) - {package}
    found = {f"{path.relative_to(ROOT)} imports {name}"
             for path in (ROOT / PACKAGES[package]).rglob("*.py") for name in _imported(path) & others}
    assert not found


@pytest.mark.parametrize("part", ["shared/lifecycles", "shared/contract"])
def test_the_shared_contract_imports_no_service(part):
    found = {f"{path.relative_to(ROOT)} imports {name}"
             for path in (ROOT / part).rglob("*.py") for name in _imported(path) & set(PACKAGES)}
    assert not found
