"""The CLI's pure parts: building commands, choosing topics, reading env files, drift, matching answers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shared.cli.commands import CommandError, build, command_kind, ingress, load_file, set_path
from shared.cli.env import Env, read_env_file
from shared.cli.publish import caused_by
from shared.cli.records import Record
from shared.cli.redrive import mark, source_topic
from shared.cli.tail import of_case
from shared.cli.topic_drift import Actual, compare, declared
from shared.runtime.create_topics import TopicSpec
from shared.settings import Settings, Topics


def record(value: dict | bytes, key: str | None = "C-1", **headers: str) -> Record:
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    return Record("t.dlq", 1, 7, 0, key, raw, headers)


def test_flags_build_a_command_with_nested_fields_and_an_actor() -> None:
    data: dict = {}
    set_path(data, "fields.request_type", "technical_information")
    set_path(data, "fields.quantity", "4")
    command = build("case.open", "C-1", {"gbu": "lighting", **data}, "mary")
    assert command.subject == "C-1" and command.source == "/backbone-cli" and command.id
    assert command.data == {"gbu": "lighting", "fields": {"request_type": "technical_information", "quantity": 4},
                            "actor": {"id": "mary"}}
    assert command.dataschema == "urn:case-backbone:schema:case.open:1"
    with pytest.raises(CommandError, match="actor"):
        build("case.open", "C-1", {}, None)
    with pytest.raises(CommandError, match="--case"):
        build("case.open", None, {}, "mary")


def test_a_file_envelope_keeps_its_id_and_flags_win(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("id: fixed-1\ntype: case.update\nsubject: C-9\ndata: {subject: x, actor: {id: carl}}\n")
    command = build(None, "C-2", {}, "mary", load_file(path))
    assert (command.id, command.type, command.subject, command.data["actor"]) == ("fixed-1", "case.update", "C-2",
                                                                                  {"id": "mary"})
    (tmp_path / "list.json").write_text("[1]")
    with pytest.raises(CommandError, match="object"):
        load_file(tmp_path / "list.json")


def test_the_command_goes_to_the_principals_ingress_topic() -> None:
    topics = Topics()
    assert ingress(topics, command_kind("case.open"), "crm") == "case.commands.crm"
    assert ingress(topics, command_kind("approval.decide"), "crm") == "approval.commands.crm"
    assert command_kind("routing.handover") == "routing_commands" and command_kind("rules.upsert", "routing") == \
        "routing_commands"
    with pytest.raises(CommandError, match="does not send"):
        ingress(topics, "approval_commands", "portal")
    with pytest.raises(CommandError, match="unknown command type"):
        command_kind("case.explode")


def test_env_file_under_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "stack.env"
    path.write_text("# comment\nKAFKA_BOOTSTRAP_SERVERS=a:1\nTOPIC_PREFIX=p.\nADMIN_KAFKA_USERNAME=admin\n"
                    "ADMIN_KAFKA_PASSWORD=s\nKAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT\nINTAKE_HTTP=http://x:1\n")
    assert read_env_file(tmp_path / "none.env") == {}
    env = Env.load(path, {"KAFKA_BOOTSTRAP_SERVERS": "b:2"})
    assert env.bootstrap == "b:2" and env.services_http() == {"INTAKE_HTTP": "http://x:1"}
    assert env.kafka()["sasl_plain_username"] == "admin"
    settings = env.settings()
    assert settings.topics.case_events == "p.case.events" and settings.kafka_sasl_password == "s"


def test_drift_of_a_topic() -> None:
    settings = Settings()
    spec = TopicSpec("x", 3, {"retention.ms": "-1"})
    want = declared(spec, settings)
    assert compare(spec, None, settings).missing
    assert compare(spec, Actual(3, 1, dict(want), {}), settings).ok
    drift = compare(spec, Actual(12, 2, {**want, "retention.ms": "100"}, {}), settings)
    assert (drift.partitions, drift.replication, drift.configs) == ((12, 3), (2, 1), {"retention.ms": ("100", "-1")})


def test_answers_cases_and_dead_letter_sources() -> None:
    assert caused_by(record({"type": "case.opened", "causationid": "c1"}), "c1")
    assert caused_by(record({"type": "case.command_rejected", "data": {"command_id": "c1"}}), "c1")
    assert not caused_by(record(b"not json"), "c1")
    assert of_case(record({}, key="C-1"), "C-1") and of_case(record({"subject": "C-2"}, key=None), "C-2")
    assert not of_case(record({}, key="C-1"), "C-2") and of_case(record({}), None)
    assert source_topic("a.b.dlq", record(b"", **{"dlq-original-topic": "x.y"})) == "x.y"
    assert source_topic("a.b.dlq", record(b"")) == "a.b" and mark("a.b.dlq", record(b"")) == "a.b.dlq/1:7"


def test_case_show_lays_out_state_history_and_approvals(capsys: pytest.CaptureFixture[str]) -> None:
    from shared.cli import render
    from shared.cli.case import show_case

    render.console.width = 200
    show_case({"case": {"id": "C-1", "status": "under_assessment"},
               "sections": [{"title": "Case Information", "fields": [{"name": "gbu", "label": "GBU", "value": "marine"}]}],
               "related": {"products": [{"product_id": "P-1"}], "product_count": 1},
               "approval_history": [{"step": "pre_approval", "approver": "john", "on_behalf_of": None,
                                     "decision": "approve", "comment": "ok", "at": "2026-11-01T09:00:00Z",
                                     "kind": "manual"}],
               "history": [{"at": "2026-11-01T08:00:00Z", "actor": "mary", "action": "case.update", "kind": "manual",
                            "changes": [{"field": "subject", "before": "A", "after": "B"}]}],
               "advice": [{"code": "csr_needs_product", "message": "Add a product", "at": "2026-11-01T08:00:00Z"}]})
    out = capsys.readouterr().out
    for text in ("under_assessment", "GBU", "marine", "P-1", "pre_approval", "john", "approve",
                 "subject: A -> B", "csr_needs_product"):
        assert text in out, text
