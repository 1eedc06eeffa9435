"""docs/operations.md runbooks: one per situation of issue 12, and every name they give is real.

Alerts are those of deploy/observability/alerts.yaml, metrics those the code exports, log events and other
dotted names string literals of the code, and every `backbone` command line parses with the CLI's options.
"""

from __future__ import annotations

import re
import shlex

from typer.main import get_command

from shared.cli.main import app
from tests.unit.deploy.manifests import ROOT
from tests.unit.deploy.test_observability import NAME, alert_rules, exported

RUNBOOKS = ("Broker down", "Store down", "A poison message", "Growing lag", "A stuck outbox",
            "Rebuilding the portal projection", "Rotating the link secret", "Re-driving dead letters", "Scaling out")
FILE_ENDINGS = (".py", ".md", ".yaml", ".yml", ".json", ".env", ".properties")


def runbooks() -> dict[str, str]:
    """Runbook title -> its text (the closing "Choices ..." part is not a runbook)."""
    text = (ROOT / "docs" / "operations.md").read_text().split("\n## Runbooks\n", 1)[1].split("\n## ", 1)[0]
    parts = re.split(r"^### (.+)$", text, flags=re.M)
    return {title: body for title, body in zip(parts[1::2], parts[2::2], strict=True) if not title.startswith("Choices")}


def code_literals() -> set[str]:
    """Every double-quoted string literal of the services' and shared code."""
    files = [*ROOT.glob("shared/**/*.py"), *ROOT.glob("services/*/*/**/*.py")]
    return {m for p in files for m in re.findall(r'"([a-z_][a-z0-9_.-]*)"', p.read_text())}


def test_one_runbook_per_situation_each_with_what_is_seen_and_what_to_run():
    books = runbooks()
    assert list(books) == list(RUNBOOKS)
    for title, text in books.items():
        seen = ("You see" in text or "you see" in text.lower()) and ("`" in text)
        assert seen, f"{title}: does not say what the operator sees"
        assert "```sh" in text, f"{title}: no command to run"


def test_alerts_and_metrics_named_exist():
    text = "\n".join(runbooks().values())
    alerts = {r["alert"] for r in alert_rules()}
    assert set(re.findall(r"\bBackbone[A-Z]\w+", text)) - alerts == set()
    names = exported()  # a histogram is exported as its _bucket, _count and _sum series
    assert {n for n in NAME.findall(text) if not any(e == n or e.startswith(f"{n}_") for e in names)} == set()


def test_log_events_and_dotted_names_are_in_the_code():
    """`outbox.flush_failed`, `case.events`, ...: each is a string the code logs or uses; files are left out."""
    names = {n for n in re.findall(r"`([a-z_]+\.[a-z_]+)`", "\n".join(runbooks().values()))
             if not n.endswith(FILE_ENDINGS)}
    assert names, "no log event named"
    assert names - code_literals() == set()


def backbone_lines() -> list[list[str]]:
    lines = [line.split("#", 1)[0] for text in runbooks().values() for line in text.splitlines()]
    return [shlex.split(line)[1:] for line in lines if re.match(r"\s*(\.venv/bin/)?backbone ", line)
            ] + [shlex.split(line.split("-- ", 1)[1])[1:] for line in lines if "-- backbone " in line]


def parses(argv: list[str]) -> bool:
    """The CLI knows the command the words name, and its options and arguments take the rest."""
    command, words = get_command(app), list(argv)
    while hasattr(command, "commands"):  # a group: the next word names its command
        if not words or words[0] not in command.commands:
            return False
        command, words = command.commands[words[0]], words[1:]
    try:
        command.make_context(command.name or "backbone", words)
    except Exception:  # click's usage errors: an unknown option, a missing argument
        return False
    return True


def test_every_backbone_command_line_parses():
    lines = backbone_lines()
    assert len(lines) >= 10
    assert [argv for argv in lines if not parses(argv)] == []
    assert not parses(["dlq", "redrive", "case.events.dlq", "--bogus"]) and not parses(["dlq", "resend"])
