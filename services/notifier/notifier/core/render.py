"""Renders e-mails from Jinja2 templates: `<name>.txt.j2` (first line `Subject: ...`) and `<name>.html.j2`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import ChainableUndefined, Environment, FileSystemLoader

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


@dataclass(frozen=True)
class Rendered:
    """Subject, plain-text body and HTML body of one e-mail."""

    subject: str
    text: str
    html: str


class Renderer:
    """Template set of one folder; names are those with both a text and an HTML part."""

    def __init__(self, folder: Path = TEMPLATES) -> None:
        self._folder = folder
        # Only HTML is escaped; the text part must show names and links as they are.
        self._env = Environment(loader=FileSystemLoader(str(folder)), undefined=ChainableUndefined,
                                autoescape=lambda name: bool(name and name.endswith(".html.j2")),
                                keep_trailing_newline=True)

    def names(self) -> set[str]:
        """Templates that have both parts (files starting with `_` are layouts)."""
        text = {p.name.removesuffix(".txt.j2") for p in self._folder.glob("*.txt.j2")}
        html = {p.name.removesuffix(".html.j2") for p in self._folder.glob("*.html.j2")}
        return {n for n in text & html if not n.startswith("_")}

    def render(self, name: str, context: dict[str, Any]) -> Rendered:
        """Render both parts; the text part's first line gives the subject."""
        text = self._env.get_template(f"{name}.txt.j2").render(context)
        first, _, body = text.partition("\n")
        if not first.startswith("Subject:"):
            raise ValueError(f"template {name}.txt.j2 must start with a 'Subject:' line")
        html = self._env.get_template(f"{name}.html.j2").render({**context, "subject": first[8:].strip()})
        return Rendered(subject=first[8:].strip(), text=body.lstrip("\n"), html=html)


def case_link(base: str, case_id: str) -> str:
    """Deep link to a case."""
    return f"{base.rstrip('/')}/cases/{case_id}"
