"""Writes a JSON Schema per command, event and record of the contract into docs/schemas/ (`make schemas`).

Each file validates one whole CloudEvent (envelope and `data`) of one type; its `$id` is the `dataschema`
URI the backbone puts on messages of that type. `index.json` lists every type with its kind, topic and file.
It also rewrites the generated tables of docs/contract.md (`shared.runtime.contract_md`).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from shared.contract.envelope import dataschema_uri
from shared.contract.registry import message_types
from shared.runtime import contract_md
from shared.runtime.doc_files import write_or_check
from shared.settings import Topics

DOCS = Path(__file__).resolve().parents[2] / "docs" / "schemas"
INDEX = "index"
DIALECT = "https://json-schema.org/draft/2020-12/schema"


def _dump(value: dict) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def schema(type_: str) -> dict:
    """The JSON Schema of one envelope of `type_`."""
    message = next(m for m in message_types() if m.type == type_)
    return {"$schema": DIALECT, "$id": dataschema_uri(type_), **message.envelope.model_json_schema()}


def render(name: str) -> str:
    """The text of docs/schemas/<name>.json: one type's schema, or the index."""
    if name != INDEX:
        return _dump(schema(name))
    topics = Topics()
    return _dump({"types": [{"type": m.type, "kind": m.kind, "topic": getattr(topics, m.topic),
                             "dataschema": dataschema_uri(m.type), "file": f"{m.type}.json"}
                            for m in message_types()]})


def names() -> list[str]:
    """Every file this writes (without `.json`)."""
    return [INDEX, *(m.type for m in message_types())]


def main() -> int:
    """Write every schema and docs/contract.md's generated tables; with --check, fail if one is out of date instead."""
    code = write_or_check(DOCS, ".json", names(), render, "schemas")
    if not contract_md.write_or_check("--check" in sys.argv):
        print("out of date: docs/contract.md's generated tables (run `make schemas`)")
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
