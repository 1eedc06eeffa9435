"""The official AsyncAPI parser (@asyncapi/parser, run with node) accepts every committed AsyncAPI document."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from shared.runtime.asyncapi_docs import DOCS, built_services

ROOT = Path(__file__).resolve().parents[2]
MODULES = ROOT / ".local" / "asyncapi"  # installed by `make setup` from tools/asyncapi/package-lock.json
CHECK = ROOT / "tools" / "asyncapi" / "check.cjs"


def _parse(*files: Path) -> tuple[int, list[dict]]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the AsyncAPI parser runs on node (make setup installs it with npm)")
    assert (MODULES / "node_modules" / "@asyncapi" / "parser").is_dir(), "run `make setup` (installs @asyncapi/parser)"
    done = subprocess.run([node, str(CHECK), str(MODULES), *map(str, files)], capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, [json.loads(line) for line in done.stdout.splitlines()]


def test_every_asyncapi_document_parses_without_error(tmp_path: Path):
    broken = tmp_path / "broken.yaml"  # proves the check can fail: a binding the Kafka bindings schema refuses
    broken.write_text((DOCS / "portal-sync.yaml").read_text().replace("partitions: 3", "partitions: 0"))
    docs = [DOCS / f"{service}.yaml" for service in built_services()]
    code, results = _parse(*docs, broken)
    assert code == 1
    by_file = {Path(r["file"]).name: r for r in results}
    assert by_file.pop("broken.yaml")["errors"]
    assert {name: r["errors"] for name, r in by_file.items()} == {d.name: [] for d in docs}
