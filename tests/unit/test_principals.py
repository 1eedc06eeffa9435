"""The speaks-for policy and roles from the directory (shared/identity.py, shared/data/principals.yaml)."""

from __future__ import annotations

import pytest

from shared.contract.envelope import Actor
from shared.directory import load_directory
from shared.identity import Forbidden, has_role, require_roles, verified_actor
from shared.principals import load_principals
from shared.settings import Topics

DIRECTORY, POLICY = load_directory(), load_principals()


def verify(principal: str, actor: object, account: str | None = None, kind: str = "case_commands") -> Actor:
    return verified_actor(principal, actor, DIRECTORY, POLICY, account, kind)


def test_roles_come_from_the_directory_not_the_message():
    assert verify("crm", {"id": "mary", "roles": ["admin", "system:approval"]}) == Actor(id="mary", roles=["sales_rep"])


@pytest.mark.parametrize(("principal", "actor_id", "account", "words"), [
    ("crm", "anyone", None, "may not speak for 'anyone'"),  # not in the directory
    ("crm", "system:approval", None, "may not speak for 'system:approval'"),
    ("crm", "cust.ola", None, "may not speak for 'cust.ola'"),  # a customer is not staff
    ("portal", "mary", None, "may not speak for 'mary'"),
    ("portal", "cust.hans", "ACC-1001", "another account"),
    ("webform", "system:approval", None, "may not speak for"),
    ("approval", "mary", None, "may not speak for 'mary'"),  # staff only on approval.commands (link decisions)
    ("stranger", "mary", None, "may not send commands"),
])
def test_a_principal_speaks_only_for_its_actors(principal, actor_id, account, words):
    with pytest.raises(Forbidden, match=words):
        verify(principal, {"id": actor_id, "roles": ["admin"]}, account)


@pytest.mark.parametrize(("principal", "actor_id", "account", "kind", "roles"), [
    ("webform", "system:webform", None, "case_commands", ["system:webform"]),
    ("approval", "system:approval", None, "case_commands", ["system:approval"]),
    ("routing", "system:routing", None, "case_commands", ["system:routing"]),
    ("portal", "cust.ola", "ACC-1001", "case_commands", ["customer"]),
    ("portal-sync", "cust.ola", "ACC-1001", "case_commands", ["customer"]),
    ("approval", "peter", None, "approval_commands", ["sales_manager"]),
])
def test_allowed_actors_get_directory_roles(principal, actor_id, account, kind, roles):
    assert verify(principal, {"id": actor_id}, account, kind).roles == roles


@pytest.mark.parametrize("claimed", [None, {}, {"id": ""}, {"id": 7}, "mary"])
def test_a_command_without_an_actor_id_is_forbidden(claimed):
    with pytest.raises(Forbidden, match="no actor"):
        verify("crm", claimed)


def test_an_actor_id_equal_to_a_role_is_not_that_role():
    assert not has_role(Actor(id="system:approval", roles=[]), ["system:approval"])
    assert has_role(Actor(id="x", roles=["system:approval"]), ["system:approval"])
    assert has_role(Actor(id="x", roles=[]), ["*"])


def test_account_upsert_needs_a_directory_role():
    with pytest.raises(Forbidden, match="account.upsert"):
        require_roles("account.upsert", verify("crm", {"id": "mary", "roles": ["admin"]}), POLICY)
    require_roles("account.upsert", verify("crm", {"id": "ada"}), POLICY)  # an admin in the directory
    require_roles("case.open", verify("crm", {"id": "mary"}), POLICY)  # lifecycles guard case commands


def test_each_command_topic_has_one_ingress_topic_per_sender():
    topics = Topics().prefixed("p.")
    assert topics.ingress("case_commands")["p.case.commands.crm"] == "crm"
    assert set(topics.ingress("approval_commands").values()) == {"crm", "approval"}
    assert topics.ingress("routing_commands") == {"p.routing.commands.crm": "crm"}
    assert topics.sent_by("approval").case_commands == "p.case.commands.approval"


def test_directory_roles_and_customers():
    assert DIRECTORY.roles_of("peter") == ["sales_manager"] and DIRECTORY.roles_of("nobody") == []
    assert DIRECTORY.get("cust.ola").is_customer and not DIRECTORY.get("mary").is_customer
