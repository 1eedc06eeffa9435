"""Every lifecycle file loads and is consistent; broken files fail loudly, naming the file."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from intake.core import LifecycleError, load_lifecycle_file, load_lifecycles
from intake.core.case import Case
from intake.core.guards import GUARDS
from intake.core.triggers import KNOWN_TRIGGERS
from shared.lifecycles import CASE_COMMANDS, LIFECYCLE_DIR
from shared.lifecycles import load_lifecycle_file as load_contract_file

EXPECTED = {"customer_request", "csr", "claim", "change_request", "change_order", "quotation", "order",
            "helpdesk", "sales", "purchase"}
LIFECYCLES = load_lifecycles()


def test_all_case_types_are_present():
    assert set(LIFECYCLES) == EXPECTED
    assert load_lifecycles() == LIFECYCLES  # cached and stable


@pytest.mark.parametrize("lc", LIFECYCLES.values(), ids=list(LIFECYCLES))
def test_lifecycle_is_consistent(lc):
    codes = {s.code for s in lc.statuses}
    assert lc.status(lc.initial_status).category != "closed"
    assert any(s.category == "closed" for s in lc.statuses)
    for t in lc.transitions:
        assert set(t.from_) | {t.to} <= codes
        assert all(g in GUARDS for g in t.guards)
        if t.mode == "automatic":
            assert t.trigger in KNOWN_TRIGGERS and not t.roles
        else:
            assert t.roles and t.trigger is None
        if any(lc.status(f).category == "closed" for f in t.from_):
            assert t.reopen, "closed statuses have no way out unless a reopen is documented"
    assert all(lc.status(target).category == "closed" for target in lc.closing.reasons.values())
    assert set(lc.commands) <= CASE_COMMANDS and "case.open" in lc.commands
    for s in lc.statuses:
        assert set(s.accepts) <= CASE_COMMANDS
    for section in lc.sections:
        for ref in section.fields:
            assert ref[7:] in {f.name for f in lc.fields} if ref.startswith("fields.") else ref in Case.model_fields


@pytest.mark.parametrize("lc", LIFECYCLES.values(), ids=list(LIFECYCLES))
def test_every_status_is_reachable_and_can_end_closed(lc):
    edges = {(f, t.to) for t in lc.transitions for f in t.from_}
    reach, todo = {lc.initial_status}, [lc.initial_status]
    while todo:
        here = todo.pop()
        for f, to in edges:
            if f == here and to not in reach:
                reach.add(to)
                todo.append(to)
    assert reach == {s.code for s in lc.statuses}
    closed = {s.code for s in lc.statuses if s.category == "closed"}
    for s in lc.statuses:
        seen, todo = {s.code}, [s.code]
        while todo:
            here = todo.pop()
            for f, to in edges:
                if f == here and to not in seen:
                    seen.add(to)
                    todo.append(to)
        assert seen & closed, f"{s.code} can never be closed"


def test_every_guard_and_known_trigger_is_used_somewhere():
    used_triggers = {t.trigger for lc in LIFECYCLES.values() for t in lc.transitions if t.trigger}
    assert used_triggers == KNOWN_TRIGGERS - {"opened"}  # `opened` is fired for future types, none uses it yet
    used_guards = {g for lc in LIFECYCLES.values() for t in lc.transitions for g in t.guards}
    assert used_guards >= {"has_related_product", "has_feasibility_conclusion", "has_resolution", "has_cause"}


def _write(tmp_path: Path, name: str, mutate) -> Path:
    raw = yaml.safe_load((LIFECYCLE_DIR / "claim.yaml").read_text())
    mutate(raw)
    path = tmp_path / name
    path.write_text(yaml.safe_dump(raw))
    return path


@pytest.mark.parametrize(
    ("mutate", "needle"),
    [
        (lambda r: r["transitions"].append({"from": "new", "to": "nowhere", "mode": "manual", "roles": ["x"]}), "nowhere"),
        (lambda r: r.update(initial_status="limbo"), "initial_status"),
        (lambda r: r["transitions"][0].update(guards=["is_sunny"]), "is_sunny"),
        (lambda r: r["transitions"][3].update(trigger="telepathy"), "trigger"),
        (lambda r: r["transitions"].append({"from": "closed", "to": "new", "mode": "manual", "roles": ["x"]}), "reopen"),
        (lambda r: r["closing"]["reasons"].update(lost="in_progress"), "closed status"),
        (lambda r: r["commands"].update({"case.fly": {}}), "case.fly"),
        (lambda r: r["statuses"][0].update(colour="red"), "colour"),
        (lambda r: r["commands"]["case.open"].update(roles=["@ghosts"]), "ghosts"),
        (lambda r: r["sections"][0]["fields"].append("fields.nope"), "fields.nope"),
        (lambda r: r["queues"].append(dict(r["queues"][0])), "duplicate queue codes"),
        (lambda r: r.update(advice=[{"code": "a", "message": "m", "statuses": ["limbo"], "unless": "has_cause"}]), "limbo"),
        (lambda r: r.update(advice=[{"code": "a", "message": "m", "statuses": ["new"], "unless": "is_sunny"}]), "is_sunny"),
        (lambda r: r.update(on_open=["summon_quote"]), "summon_quote"),
        (lambda r: r.update(refused_commands={"case.update": "no"}), "also listed in commands"),
        (lambda r: r.update(refused_commands={"case.fly": "no"}), "case.fly"),
        (lambda r: r["fields"].append({"name": "tint", "label": "T", "type": "enum", "values": ["a"], "default": "b"}),
         "default 'b'"),
    ],
)
def test_invalid_file_raises_naming_the_file(tmp_path, mutate, needle):
    path = _write(tmp_path, "claim.yaml", mutate)
    with pytest.raises(LifecycleError) as err:
        load_lifecycle_file(path)
    assert "claim.yaml" in str(err.value) and needle in str(err.value)


def test_intakes_vocabulary_is_checked_by_intake_not_by_the_shared_contract(tmp_path):
    # Guard, effect and trigger names mean something only to intake's code; other readers need not know them.
    path = _write(tmp_path, "claim.yaml", lambda r: r["transitions"][0].update(guards=["is_sunny"]))
    assert load_contract_file(path).case_type == "claim"
    with pytest.raises(LifecycleError, match="is_sunny"):
        load_lifecycle_file(path)


def test_file_name_must_match_case_type(tmp_path):
    path = _write(tmp_path, "warranty.yaml", lambda r: None)
    with pytest.raises(LifecycleError, match="warranty.yaml"):
        load_lifecycles(tmp_path)


def test_adding_a_case_type_is_adding_a_file(tmp_path):
    _write(tmp_path, "warranty.yaml", lambda r: r.update(case_type="warranty", label="Warranty"))
    assert set(load_lifecycles(tmp_path)) == {"warranty"}


def test_unreadable_yaml_is_reported(tmp_path):
    (tmp_path / "broken.yaml").write_text("statuses: [unclosed")
    with pytest.raises(LifecycleError, match="broken.yaml"):
        load_lifecycles(tmp_path)
