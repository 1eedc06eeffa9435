"""The `backbone` CLI against the real broker, store and an intake process: every command, as an operator runs it."""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from processes import free_port  # deploy/local
from typer.testing import CliRunner

from shared.cli import render
from shared.cli.main import app
from shared.settings import Settings, Topics
from tests.support import credentials
from tests.support.kafka_io import Producer
from tests.support.oidc import token

pytestmark = pytest.mark.integration

OPEN = ["--type", "case.open", "--set", "case_type=customer_request", "--set", "gbu=lighting",
        "--set", "account_id=ACC-1001", "--set", "subject=Custom packaging",
        "--set", "fields.request_type=technical_information", "--actor", "mary"]


@pytest.fixture(scope="module")
def env_file(settings: Settings, intake, tmp_path_factory: pytest.TempPathFactory) -> Path:  # noqa: ANN001
    """A stack.env as `make run` writes it, for this module's topics, database and intake process."""
    values = {"KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers, "MONGODB_URL": settings.mongodb_url,
              "MONGODB_DATABASE": settings.mongodb_database, "TOPIC_PREFIX": settings.topic_prefix,
              "INTAKE_HTTP": intake.url}
    if credentials.USERS:
        values.update({"KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "KAFKA_SASL_MECHANISM": credentials.MECHANISM})
        for principal in ("admin", "crm"):
            values.update({f"{principal.upper()}_KAFKA_USERNAME": principal,
                           f"{principal.upper()}_KAFKA_PASSWORD": credentials.USERS[principal]})
    path = tmp_path_factory.mktemp("cli") / "stack.env"
    path.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    return path


def cli(env_file: Path, *args: str, code: int | None = 0, **env: str) -> str:
    """Run `backbone --env-file FILE args...`; check its exit code (None: any); its output."""
    render.console.width = 250  # tables on one line each, whatever the terminal
    result = CliRunner().invoke(app, ["--env-file", str(env_file), *args], env=env or None)
    print(f"$ backbone {' '.join(args)}\n{result.output}")  # a session transcript under pytest -s
    assert code is None or result.exit_code == code, f"exit {result.exit_code}:\n{result.output}\n{result.exception!r}"
    return result.output


def until(check, timeout: float = 90.0):  # noqa: ANN001, ANN201
    """Poll `check()` until it returns something truthy (the CLI's own output, e.g.)."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(1)


def test_publish_wait_tail_case_show_rebuild_health(env_file: Path, topics: Topics) -> None:
    case_id = f"CLI-{uuid.uuid4().hex[:8]}"
    out = cli(env_file, "publish", *OPEN, "--case", case_id, "--wait", "--timeout", "120")
    command_id = out.splitlines()[0].strip()
    assert uuid.UUID(command_id) and "case.opened" in out and case_id in out

    again = env_file.parent / "again.yaml"  # a file: the whole envelope; opening the same case again is refused
    again.write_text(f"type: case.open\nsubject: {case_id}\ndata:\n  case_type: customer_request\n  gbu: lighting\n"
                     f"  account_id: ACC-1001\n  subject: Twice\n  actor: {{id: mary}}\n")
    assert "case.command_rejected" in cli(env_file, "publish", "--file", str(again), "--wait", code=4)
    assert "does not send" in cli(env_file, "publish", *OPEN, "--case", case_id, "--as", "notifier", code=2)

    tailed = cli(env_file, "tail", topics.case_events, "--case", case_id, "--from-beginning", "--max", "1")
    assert "case.opened" in tailed and case_id in tailed and len(tailed.strip().splitlines()) == 1
    assert cli(env_file, "tail", topics.case_events, "--case", "NO-SUCH", "--from-beginning", "--idle", "3") == ""

    shown = cli(env_file, "case", "show", case_id, "--token", token("mary"))
    assert "customer_request" in shown and "history (oldest first)" in shown and "approval history: none" in shown
    assert re.search(r"case\.open\s.*manual", shown)
    assert json.loads(cli(env_file, "case", "show", case_id, "--token", token("mary"), "--json"))["case"]["id"] == case_id
    assert "no case" in cli(env_file, "case", "show", "NO-SUCH", "--token", token("mary"), code=1)
    assert "403" in cli(env_file, "case", "show", case_id, "--token", token("cust.ola"), code=3)

    rebuilt = cli(env_file, "rebuild", "portal-sync")
    report = json.loads(rebuilt.split("portal-sync: ", 1)[1].splitlines()[0])
    assert report["events"] >= 1 and report["generation"] > (report["previous_generation"] or 0)  # claims alone are shown
    assert f"{report['events']}/{report['events']}events" in rebuilt.replace(" ", ""), rebuilt  # the bar's last state

    health = cli(env_file, "health")
    assert "intake" in health and "kafka" in health and "store" in health and "DOWN" not in health
    down = cli(env_file, "health", "--timeout", "2", code=1, NOTIFIER_HTTP=f"http://127.0.0.1:{free_port()}")
    assert re.search(r"notifier.*DOWN", down)


def test_dlq_list_show_redrive(env_file: Path, topics: Topics, settings: Settings) -> None:
    case_id = f"CLI-{uuid.uuid4().hex[:8]}"
    ingress = f"{topics.case_commands}.crm"
    dlq = Topics.dlq(ingress)

    async def send_malformed() -> None:
        async with Producer(settings.kafka_bootstrap_servers, "crm") as producer:
            await producer.send(ingress, b'{"type": "case.open", "subject": "' + case_id.encode() + b'", oops', case_id)

    asyncio.run(send_malformed())
    listed = until(lambda: (out := cli(env_file, "dlq", "list")) and re.search(rf"{re.escape(dlq)}\s.*\b1\b", out) and out)
    assert listed, cli(env_file, "dlq", "list", "--all")
    shown = cli(env_file, "dlq", "show", dlq)
    assert "oops" in shown and ingress in shown and "JSON" in shown  # the value, where from, the consumer's error
    where = re.search(r"(\d+:\d+)", shown.split(dlq, 1)[1]).group(1)

    fixed = env_file.parent / "fixed.json"
    fixed.write_text(json.dumps({"specversion": "1.0", "id": str(uuid.uuid4()), "source": "/crm", "type": "case.open",
                                 "subject": case_id, "data": {"case_type": "customer_request", "gbu": "lighting",
                                 "account_id": "ACC-1001", "subject": "Fixed", "actor": {"id": "mary"},
                                 "fields": {"request_type": "technical_information"}}}))
    assert "sent (corrected value)" in cli(env_file, "dlq", "redrive", dlq, "--offset", where, "--value-file", str(fixed))
    assert "case.opened" in cli(env_file, "tail", topics.case_events, "--case", case_id, "--from-beginning", "--max", "1")
    assert "re-driven before" in cli(env_file, "dlq", "redrive", dlq, "--all")  # once only
    assert "no such record" in cli(env_file, "dlq", "redrive", dlq, "--offset", "0:999999", code=2)


def test_topics_plan_and_apply_fix_a_drifted_topic(env_file: Path, settings: Settings) -> None:
    name = f"drift{uuid.uuid4().hex[:6]}"
    topic = f"{settings.topic_prefix}{name}"  # the notification topic renamed, so nothing else uses it

    async def admin(action):  # noqa: ANN001, ANN202
        client = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers, **credentials.options())
        await client.start()
        try:
            return await action(client)
        finally:
            await client.close()

    asyncio.run(admin(lambda c: c.create_topics([NewTopic(topic, 1, 1, topic_configs={"max.message.bytes": "1000"})])))
    try:
        args = ("--topic", topic, "--topic", Topics.dlq(topic))
        plan = cli(env_file, "topics", "plan", *args, code=1, TOPIC_NOTIFICATION_EVENTS=name)
        assert re.search(rf"{re.escape(Topics.dlq(topic))}\s.*missing", plan)
        assert re.search(r"partitions lower\s.*\b1\b.*\b3\b", plan) and "config max.message.bytes" in plan
        applied = cli(env_file, "topics", "apply", *args, TOPIC_NOTIFICATION_EVENTS=name)
        assert "created" in applied and "partitions raised to 3" in applied and "configs set" in applied
        assert "no drift" in until(lambda: (o := cli(env_file, "topics", "plan", *args, code=None,
                                                     TOPIC_NOTIFICATION_EVENTS=name)) and "no drift" in o and o, 30)
        (described,) = asyncio.run(admin(lambda c: c.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])))
        configs = {e[0]: e[1] for e in described.resources[0][4]}
        assert configs["max.message.bytes"] == str(settings.limits.broker_bytes)
    finally:
        asyncio.run(admin(lambda c: c.delete_topics([topic, Topics.dlq(topic)])))
