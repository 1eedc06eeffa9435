"""The generated parts of docs/contract.md: the topic table and the messages of the topics besides case.*.

Each part sits between `<!-- generated: NAME -->` and `<!-- end generated -->`; `make schemas` rewrites it
from the declarations (`shared.runtime.create_topics`, `shared.contract.registry`), and a test fails when the
committed file differs, so the tables cannot drift from the code.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel

from shared.contract.registry import message_types
from shared.runtime.create_topics import topic_specs
from shared.settings import COMMAND_TOPICS, Topics

PATH = Path(__file__).resolve().parents[2] / "docs" / "contract.md"
MARK = re.compile(r"(<!-- generated: (?P<name>[a-z-]+) -->\n).*?(<!-- end generated -->)", re.S)
KEYS = {"case_rejections": "case id (or command id)", "approval_commands": "case id (rules: `approval-rules`)",
        "approval_events": "case id (rules: `approval-rules`)", "case_events": "case id (directory: account/person id)"}
NOT_MODELLED = {"routing_commands": "`rules.upsert`, `routing.handover` (docs/asyncapi/routing.yaml)"}
# The topics whose messages case.* sections above describe by hand (with the rules around them).
HAND_WRITTEN = {"case_commands", "case_events", "case_rejections", "portal_case_status"}


def _configs(configs: dict[str, str]) -> str:
    shown = {"cleanup.policy": lambda v: v, "retention.ms": lambda v: "kept for ever" if v == "-1" else f"{v} ms"}
    return ", ".join(fmt(configs[k]) for k, fmt in shown.items() if k in configs) or "delete, default retention"


def topics_table(topics: Topics | None = None) -> str:
    """One row per topic of the contract: partitions, configs, key, message types, what it is."""
    topics = topics or Topics()
    specs = {s.name: s for s in topic_specs(topics)}
    described = Topics.model_fields
    rows = ["| topic | partitions | configs | key | types | what |", "|---|---|---|---|---|---|"]
    for kind, name in topics.model_dump().items():
        names = list(topics.ingress(kind)) if kind in COMMAND_TOPICS else [name]
        parts = sorted({specs[n].partitions for n in names}, reverse=True)
        shown = f"`{name}.<principal>` ({', '.join(topics.ingress(kind).values())})" if kind in COMMAND_TOPICS \
            else f"`{name}`"
        mine = [m.type for m in message_types() if m.topic == kind]
        types = (f"{len(mine)} types (below)" if kind in HAND_WRITTEN and len(mine) > 3
                 else ", ".join(f"`{t}`" for t in mine) or NOT_MODELLED.get(kind, ""))
        rows.append(f"| {shown} | {' or '.join(map(str, parts))} | {_configs(specs[names[0]].configs)} | "
                    f"{KEYS.get(kind, 'case id')} | {types} | {described[kind].description} |")
    rows.append("| `<topic>.dlq` | 3 | delete, default retention | as received | as received | dead letters: "
                "the record exactly as received, the error in headers |")
    return "\n".join(rows)


def _what(type_: str, model: type[BaseModel]) -> str:
    first = (model.__doc__ or "").strip().splitlines()[0]
    return first.removeprefix(f"`{type_}`").removeprefix(":").strip()


def _fields(model: type[BaseModel]) -> str:
    return ", ".join(f"`{f.alias or n}`" + ("" if f.is_required() else "?") for n, f in model.model_fields.items())


def messages_tables(topics: Topics | None = None) -> str:
    """A table per topic whose messages the hand-written sections do not list."""
    topics = topics or Topics()
    out = []
    for kind, name in topics.model_dump().items():
        types = [m for m in message_types() if m.topic == kind]
        if kind in HAND_WRITTEN or not types:
            continue
        shown = f"{name}.<principal>" if kind in COMMAND_TOPICS else name
        out += [f"### `{shown}`", "", "| type | what | data fields |", "|---|---|---|"]
        out += [f"| `{m.type}` | {_what(m.type, m.data)} | {_fields(m.data)} |" for m in types]
        out.append("")
    return "\n".join(out).rstrip()


SECTIONS: dict[str, Callable[[], str]] = {"topics": topics_table, "messages": messages_tables}


def render(text: str) -> str:
    """`text` with every generated section rewritten."""
    return MARK.sub(lambda m: f"{m.group(1)}{SECTIONS[m.group('name')]()}\n{m.group(3)}", text)


def write_or_check(check: bool) -> bool:
    """Rewrite docs/contract.md's generated sections; with `check`, only say whether they are current."""
    text = PATH.read_text()
    if check:
        return render(text) == text
    PATH.write_text(render(text))
    return True
