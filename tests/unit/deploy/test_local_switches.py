"""`make run` switches and the Kafka node configs they lead to (no process started)."""

from __future__ import annotations

import pytest
from servers import Kafka, Quorum  # deploy/local
from stack import switches


def props(path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if line)


@pytest.mark.parametrize(("environ", "expected"), [
    ({}, (1, 1)),
    ({"KAFKA_BROKERS": "3"}, (3, 2)),
    ({"KAFKA_BROKERS": "3", "SERVICE_REPLICAS": "1"}, (3, 1)),
    ({"KAFKA_BROKERS": "", "SERVICE_REPLICAS": "2"}, (1, 2)),
])
def test_switches(environ, expected):
    assert switches(environ) == expected


def test_a_switch_below_one_is_refused():
    with pytest.raises(ValueError):
        switches({"SERVICE_REPLICAS": "0"})


def test_a_cluster_node_has_static_voters_and_replicates_by_three(tmp_path):
    quorum = Quorum("cid", {1: (9001, 9101), 2: (9002, 9102), 3: (9003, 9103)})
    node = Kafka(tmp_path / "node-2", node_id=2, quorum=quorum)
    assert node._choose_ports()  # no data yet: to be formatted with the shared cluster id
    config = props(node._write_config())
    assert config["node.id"] == "2"
    assert config["controller.quorum.voters"] == "1@127.0.0.1:9101,2@127.0.0.1:9102,3@127.0.0.1:9103"
    assert config["listeners"] == "BROKER://127.0.0.1:9002,CONTROLLER://127.0.0.1:9102"
    # SASL on both listeners, ACLs enforced, the admin the only super user
    assert config["listener.security.protocol.map"] == "BROKER:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT"
    assert config["authorizer.class.name"] == "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
    assert config["allow.everyone.if.no.acl.found"] == "false" and config["super.users"] == "User:admin"
    for key in ("default.replication.factor", "offsets.topic.replication.factor",
                "transaction.state.log.replication.factor"):
        assert config[key] == "3", key
    assert config["min.insync.replicas"] == config["transaction.state.log.min.isr"] == "2"


def test_a_lone_node_replicates_by_one(tmp_path):
    node = Kafka(tmp_path / "kafka")
    node._choose_ports()
    config = props(node._write_config())
    assert "controller.quorum.voters" not in config and config["controller.quorum.bootstrap.servers"]
    assert config["default.replication.factor"] == config["min.insync.replicas"] == "1"
