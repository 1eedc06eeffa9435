"""The trigger table loads, matches the lifecycles, and broken tables fail loudly naming the file."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from intake.core import load_lifecycles
from intake.core.loader import TRIGGER_FILE, TriggerRulesError, load_trigger_file, load_trigger_rules
from intake.core.trigger_rules import KNOWN_TRIGGERS

RULES = load_trigger_rules()


def _fired(rules) -> set[str]:
    groups = [g for gs in rules.commands.values() for g in gs] + list(rules.every_command)
    return {a.trigger for g in groups for a in g.first_of}


def test_shipped_table_loads_cached_and_fires_every_known_trigger():
    assert load_trigger_rules() is RULES
    assert _fired(RULES) == KNOWN_TRIGGERS


def test_every_automatic_transition_is_reachable_from_some_command():
    used = {t.trigger for lc in load_lifecycles().values() for t in lc.transitions if t.trigger}
    assert used <= _fired(RULES)


def _write(tmp_path: Path, mutate) -> Path:
    raw = yaml.safe_load(TRIGGER_FILE.read_text())
    mutate(raw)
    path = tmp_path / "triggers.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def _submit(raw):
    return raw["commands"]["case.submit"][0]["first_of"]


@pytest.mark.parametrize(
    ("mutate", "needle"),
    [
        (lambda r: _submit(r).append("telepathy"), "unknown trigger 'telepathy'"),
        (lambda r: _submit(r)[0].update(moon_is_full=True), "moon_is_full"),
        (lambda r: _submit(r)[0].update(case_has="colour"), "'colour' is not an attribute of a case"),
        (lambda r: r["commands"].update({"case.fly": [{"first_of": ["opened"]}]}), "case.fly"),
        (lambda r: r["commands"]["case.record_approval"][0]["first_of"][0]["data_equals"].update(mood="happy"),
         "'mood', not a field of case.record_approval"),
        (lambda r: r["commands"]["case.record_approval"][0]["first_of"].pop(), "required group must always offer"),
        (lambda r: _submit(r).pop(), "required group must always offer"),
        (lambda r: r["every_command"].append({"first_of": [{"trigger": "queued", "data_equals": {"x": 1}}]}),
         "data_equals needs a command type"),
        (lambda r: r["every_command"].append({"required": True, "first_of": [{"trigger": "queued",
                                                                              "case_lacks": "assignee"}]}),
         "required group must always offer"),
        (lambda r: r["commands"]["case.open"].append({"first_of": []}), "at least 1 item"),
        (lambda r: r["commands"]["case.open"].append({"fires": ["opened"]}), "fires"),
        (lambda r: _submit(r)[0].update(creator_has_role=""), "at least 1 character"),
        (lambda r: r.update(defaults={}), "defaults"),
        (lambda r: r.pop("commands"), "commands"),
    ],
)
def test_invalid_table_raises_naming_the_file(tmp_path, mutate, needle):
    path = _write(tmp_path, mutate)
    with pytest.raises(TriggerRulesError) as err:
        load_trigger_file(path)
    assert str(err.value).startswith("triggers.yaml: invalid trigger table") and needle in str(err.value)


def test_unreadable_or_missing_table_is_reported(tmp_path):
    (tmp_path / "triggers.yaml").write_text("commands: [unclosed")
    with pytest.raises(TriggerRulesError, match="triggers.yaml: cannot read"):
        load_trigger_file(tmp_path / "triggers.yaml")
    with pytest.raises(TriggerRulesError, match="gone.yaml: cannot read"):
        load_trigger_file(tmp_path / "gone.yaml")


def test_a_required_group_covering_every_decision_value_is_accepted(tmp_path):
    path = _write(tmp_path, lambda r: r["commands"]["case.record_approval"][0]["first_of"].reverse())
    assert load_trigger_file(path).commands["case.record_approval"][0].required
