"""docker-compose.yml on an authenticated broker: SASL_SSL everywhere, a principal per service, users, ACLs
and topics made before anyone connects, no secret in the file, OIDC for HTTP.

Each rule returns a list of problems; it runs on the real file and, to prove it can fail, on broken copies.
"""

from __future__ import annotations

import re

import pytest

from shared.principals import load_principals
from shared.runtime.acls import EXTERNAL_READS, SERVICES
from shared.runtime.kafka_security import env_prefix
from tests.unit.deploy.manifests import DELETE, app_services, env_of, mutated

ADMIN = "admin"
AUTHORIZER = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
# A value taken from the operator's environment, required (no default): ${NAME:?why}.
REQUIRED = re.compile(r"\$\{([A-Z][A-Z0-9_]*):\?[^}$]+\}")
SECRET_WORDS = ("PASSWORD", "SECRET", "TOKEN", "PRIVATE")
INIT = {"kafka-users": None, "create-topics": "shared.runtime.create_topics", "create-acls": "shared.runtime.acls"}


def scram_principals() -> set[str]:
    """Every principal that signs in with SCRAM: each service, each sender, each external reader."""
    return set(SERVICES) | set(load_principals().senders) | set(EXTERNAL_READS)


def secret_targets(svc: dict) -> dict[str, str]:
    """A compose service's secrets: path in the container -> top-level secret name."""
    out = {}
    for item in svc.get("secrets") or []:
        source = item if isinstance(item, str) else item["source"]
        target = source if isinstance(item, str) else item.get("target", source)
        out[target if target.startswith("/") else f"/run/secrets/{target}"] = source
    return out


def command_text(svc: dict) -> str:
    command = svc.get("command") or ""
    return command if isinstance(command, str) else " ".join(map(str, command))


def kafka_clients(c: dict) -> list[str]:
    return [n for n, s in c["services"].items() if "KAFKA_BOOTSTRAP_SERVERS" in env_of(s)]


def broker_problems(c: dict) -> list[str]:
    """TLS and SASL on every listener, SCRAM-SHA-512 for clients, ACLs enforced, the admin the only super user."""
    problems: list[str] = []
    kafka = c["services"]["kafka"]
    env, command = env_of(kafka), command_text(kafka)
    protocols = dict(p.split(":", 1) for p in env.get("KAFKA_LISTENER_SECURITY_PROTOCOL_MAP", "").split(",") if p)
    controllers = set(env.get("KAFKA_CONTROLLER_LISTENER_NAMES", "").split(","))
    for listener, protocol in protocols.items():
        if protocol != "SASL_SSL":
            problems.append(f"kafka listener {listener} is {protocol}, want SASL_SSL")
        key = f"KAFKA_LISTENER_NAME_{listener}_SASL_ENABLED_MECHANISMS"
        mechanisms = env.get(key, env.get("KAFKA_SASL_ENABLED_MECHANISMS", "GSSAPI")).split(",")
        if listener not in controllers and "SCRAM-SHA-512" not in mechanisms:
            problems.append(f"kafka client listener {listener} does not take SCRAM-SHA-512 ({key})")
        for mechanism in mechanisms:  # every mechanism needs its JAAS entry, written from the environment
            if f"listener.name.{listener.lower()}.{mechanism.lower()}.sasl.jaas.config=" not in command:
                problems.append(f"kafka command writes no JAAS entry for {listener} {mechanism}")
    if env.get("KAFKA_AUTHORIZER_CLASS_NAME") != AUTHORIZER:
        problems.append(f"kafka authorizer is {env.get('KAFKA_AUTHORIZER_CLASS_NAME')!r}, want {AUTHORIZER}")
    if env.get("KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND") != "false":
        problems.append("kafka must refuse a resource without ACLs (KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND=false)")
    if env.get("KAFKA_SUPER_USERS") != f"User:{ADMIN}":
        problems.append(f"kafka super users {env.get('KAFKA_SUPER_USERS')!r}, want User:{ADMIN} alone")
    mounted = secret_targets(kafka)
    for key in ("KAFKA_SSL_KEYSTORE_LOCATION", "KAFKA_SSL_TRUSTSTORE_LOCATION"):
        if env.get(key) not in mounted:
            problems.append(f"kafka {key} {env.get(key)!r} is not a mounted secret")
    if "ssl.keystore.password=" not in command:
        problems.append("kafka command does not give the broker its keystore password")
    return problems


def client_problems(c: dict) -> list[str]:
    """Every Kafka client on SASL_SSL with the broker's CA; each service as its own principal, whose
    SCRAM user kafka-users makes; the one-shots as the admin."""
    problems: list[str] = []
    apps, services = app_services(c), c["services"]
    ca_sources = {source for target, source in secret_targets(services["kafka"]).items()
                  if target == env_of(services["kafka"]).get("KAFKA_SSL_TRUSTSTORE_LOCATION")}
    users = set(env_of(services.get("kafka-users", {})).get("SCRAM_USERS", "").split())
    clients = kafka_clients(c)
    for name in sorted(set(apps) | set(INIT) - {"kafka-users"}):
        if name not in clients:
            problems.append(f"{name} is no Kafka client (KAFKA_BOOTSTRAP_SERVERS)")
    seen: dict[str, str] = {}
    for name in clients:
        svc = services[name]
        env = env_of(svc)
        if env.get("KAFKA_SECURITY_PROTOCOL") != "SASL_SSL":
            problems.append(f"{name}: KAFKA_SECURITY_PROTOCOL {env.get('KAFKA_SECURITY_PROTOCOL')!r}, want SASL_SSL")
        if secret_targets(svc).get(env.get("KAFKA_SSL_CAFILE", "")) not in ca_sources:
            problems.append(f"{name}: KAFKA_SSL_CAFILE {env.get('KAFKA_SSL_CAFILE')!r} is not the broker's CA, mounted")
        user = env.get("KAFKA_SASL_USERNAME", "")
        want = name if name in apps else ADMIN
        if user != want:
            problems.append(f"{name}: KAFKA_SASL_USERNAME {user!r}, want its own principal {want!r}")
            continue
        password = REQUIRED.fullmatch(env.get("KAFKA_SASL_PASSWORD", ""))
        if not password or password.group(1) != env_prefix(user) + "PASSWORD":
            problems.append(f"{name}: KAFKA_SASL_PASSWORD must be ${{{env_prefix(user)}PASSWORD:?...}}")
        if name in apps:
            if env.get("KAFKA_SASL_MECHANISM") != "SCRAM-SHA-512":
                problems.append(f"{name}: KAFKA_SASL_MECHANISM {env.get('KAFKA_SASL_MECHANISM')!r}, want SCRAM-SHA-512")
            if user not in users:
                problems.append(f"{name}: no SCRAM user {user!r} is made by kafka-users")
            if user in seen:
                problems.append(f"{name} and {seen[user]} share the principal {user!r}")
            seen[user] = name
    return problems


def init_problems(c: dict) -> list[str]:
    """kafka-users (SCRAM users of every principal), create-topics and create-acls run once the broker is
    healthy, and every service waits for all three to have finished."""
    problems: list[str] = []
    services = c["services"]
    for name, module in INIT.items():
        svc = services.get(name)
        if svc is None:
            problems.append(f"one-shot service {name} missing")
            continue
        if ((svc.get("depends_on") or {}).get("kafka") or {}).get("condition") != "service_healthy":
            problems.append(f"{name} must wait for kafka to be healthy")
        if svc.get("restart", "no") != "no":
            problems.append(f"{name} runs once: restart must be \"no\"")
        command = svc.get("command") or []
        if module and (command.split() if isinstance(command, str) else command)[-3:] != ["python", "-m", module]:
            problems.append(f"{name} must run python -m {module}, runs {command!r}")
    if "kafka-users" in services:
        users = services["kafka-users"]
        env, command = env_of(users), command_text(users)
        made = set(env.get("SCRAM_USERS", "").split())
        if made != scram_principals():
            problems.append(f"kafka-users makes {sorted(made)}, the principals are {sorted(scram_principals())}")
        for user in made | {ADMIN}:
            ref = REQUIRED.fullmatch(env.get(env_prefix(user) + "PASSWORD", ""))
            if not ref or ref.group(1) != env_prefix(user) + "PASSWORD":
                problems.append(f"kafka-users: {env_prefix(user)}PASSWORD must be required from the environment")
        if not all(part in command for part in ("kafka-configs.sh", "--entity-type users", "SCRAM-SHA-512=", "SCRAM_USERS")):
            problems.append("kafka-users does not set SCRAM-SHA-512 credentials of SCRAM_USERS with kafka-configs.sh")
    for name in app_services(c):
        deps = services[name].get("depends_on") or {}
        for dep in INIT:
            if (deps.get(dep) or {}).get("condition") != "service_completed_successfully":
                problems.append(f"{name} must wait for {dep} to complete")
    return problems


def secret_literal_problems(c: dict) -> list[str]:
    """No secret in the file: every password/secret variable is a required ${VAR:?...}, every password a
    command writes comes from a variable or a file, and TLS material comes from files the operator makes."""
    problems: list[str] = []
    for name, svc in c["services"].items():
        for key, value in env_of(svc).items():
            if any(word in key for word in SECRET_WORDS) and not REQUIRED.fullmatch(value):
                problems.append(f"{name}: {key} is not a required ${{VAR:?...}} from the environment")
        for found in re.finditer(r"password=\\?\"?(.)", command_text(svc)):
            if found.group(1) != "$":
                problems.append(f"{name}: its command holds a literal password")
    for secret, spec in (c.get("secrets") or {}).items():
        if set(spec) != {"file"}:
            problems.append(f"secret {secret} must be a file the operator makes, not {sorted(spec)}")
    return problems


def oidc_problems(c: dict) -> list[str]:
    """Every service verifies bearer tokens of the operator's OIDC provider."""
    problems: list[str] = []
    for name in app_services(c):
        env = env_of(c["services"][name])
        for key in ("OIDC_JWKS_URL", "OIDC_ISSUER"):
            if not REQUIRED.fullmatch(env.get(key, "")):
                problems.append(f"{name}: {key} must be ${{{key}:?...}} (required from the environment)")
        if not env.get("OIDC_AUDIENCE"):
            problems.append(f"{name}: no OIDC_AUDIENCE")
    return problems


RULES = [broker_problems, client_problems, init_problems, secret_literal_problems, oidc_problems]


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.__name__)
def test_compose_kafka_security_rule_holds(compose, rule):
    assert rule(compose) == []


MUTATIONS = {
    "plaintext listener": (broker_problems, "services/kafka/environment/KAFKA_LISTENER_SECURITY_PROTOCOL_MAP",
                           "INTERNAL:PLAINTEXT,EXTERNAL:SASL_SSL,CONTROLLER:SASL_SSL"),
    "no scram for clients": (broker_problems, "services/kafka/environment/KAFKA_LISTENER_NAME_INTERNAL_SASL_ENABLED_MECHANISMS",
                             "PLAIN"),
    "no authorizer": (broker_problems, "services/kafka/environment/KAFKA_AUTHORIZER_CLASS_NAME", DELETE),
    "open without acls": (broker_problems, "services/kafka/environment/KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND", "true"),
    "more super users": (broker_problems, "services/kafka/environment/KAFKA_SUPER_USERS", "User:admin;User:intake"),
    "keystore not mounted": (broker_problems, "services/kafka/secrets", []),
    "no jaas written": (broker_problems, "services/kafka/command", ["bash", "-c", "exec /etc/kafka/docker/run"]),
    "service on plaintext": (client_problems, "services/routing/environment/KAFKA_SECURITY_PROTOCOL", "PLAINTEXT"),
    "init on plaintext": (client_problems, "services/create-acls/environment/KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT"),
    "no ca mounted": (client_problems, "services/notifier/secrets", []),
    "another's principal": (client_problems, "services/notifier/environment/KAFKA_SASL_USERNAME", "intake"),
    "service as admin": (client_problems, "services/approval/environment/KAFKA_SASL_USERNAME", "admin"),
    "another's password": (client_problems, "services/portal-sync/environment/KAFKA_SASL_PASSWORD",
                           "${INTAKE_KAFKA_PASSWORD:?set it}"),
    "no username": (client_problems, "services/intake/environment/KAFKA_SASL_USERNAME", DELETE),
    "plain for a service": (client_problems, "services/routing/environment/KAFKA_SASL_MECHANISM", "PLAIN"),
    "topics not as admin": (client_problems, "services/create-topics/environment/KAFKA_SASL_USERNAME", "intake"),
    "no users service": (init_problems, "services/kafka-users", DELETE),
    "no acls service": (init_problems, "services/create-acls", DELETE),
    "acls run the wrong module": (init_problems, "services/create-acls/command", ["python", "-m", "shared.runtime.create_topics"]),
    "a principal without user": (init_problems, "services/kafka-users/environment/SCRAM_USERS",
                                 "intake approval routing portal-sync notifier crm portal webform"),
    "user password missing": (init_problems, "services/kafka-users/environment/CRM_KAFKA_PASSWORD", DELETE),
    "service before acls": (init_problems, "services/intake/depends_on/create-acls", DELETE),
    "service before users": (init_problems, "services/portal-sync/depends_on/kafka-users/condition", "service_started"),
    "acls before kafka": (init_problems, "services/create-acls/depends_on/kafka/condition", "service_started"),
    "literal service password": (secret_literal_problems, "services/intake/environment/KAFKA_SASL_PASSWORD", "hunter2hunter2"),
    "defaulted password": (secret_literal_problems, "services/kafka/environment/ADMIN_KAFKA_PASSWORD",
                           "${ADMIN_KAFKA_PASSWORD:-admin-secret}"),
    "literal in a command": (secret_literal_problems, "services/kafka-users/command",
                             ["bash", "-c", 'echo "sasl.jaas.config=... password=\\"admin-secret\\";"']),
    "secret from the environment": (secret_literal_problems, "secrets/kafka-keystore-password",
                                    {"environment": "KEYSTORE_PASSWORD"}),
    "no jwks": (oidc_problems, "services/routing/environment/OIDC_JWKS_URL", DELETE),
    "issuer literal": (oidc_problems, "services/notifier/environment/OIDC_ISSUER", ""),
    "no audience": (oidc_problems, "services/approval/environment/OIDC_AUDIENCE", ""),
}


@pytest.mark.parametrize("name", MUTATIONS)
def test_compose_kafka_security_rule_catches_breakage(compose, name):
    rule, path, value = MUTATIONS[name]
    assert rule(mutated(compose, path, value)), f"{rule.__name__} did not notice: {name}"


def test_scram_users_are_the_local_stacks_principals():
    """compose makes the same SCRAM users as `make run` (deploy/local/servers.py), the admin apart."""
    from servers import ADMIN as LOCAL_ADMIN, principal_names  # deploy/local

    assert set(principal_names()) - {LOCAL_ADMIN} == scram_principals()
