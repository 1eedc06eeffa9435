"""The topics the stack creates."""

from __future__ import annotations

from shared.runtime.create_topics import topic_specs
from shared.settings import Topics


def test_every_topic_and_its_dead_letter_topic_with_explicit_partitions():
    specs = {s.name: s for s in topic_specs(Topics().prefixed("p."))}
    assert set(specs) == {f"p.{t}" for t in Topics().model_dump().values()} | {
        f"p.{t}.dlq" for t in Topics().model_dump().values()}
    hot = ["case.commands", "case.events", "approval.commands", "approval.events"]
    assert all(specs[f"p.{t}"].partitions == 12 for t in hot)
    assert specs["p.portal.case-status"].configs["cleanup.policy"] == "compact"
    assert specs["p.case.events"].configs["retention.ms"] == "-1"
