"""docker-compose.yml services: every runnable package is built, started, wired and reachable.

Each rule returns a list of problems; it runs on the real file and on broken copies.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from tests.unit.deploy.manifests import (DELETE, MAIL_CATCHER_IMAGE, SERVICE_ENV, TOPIC_ENV, app_services,
                                         build_args, env_of, main_service_name, mutated, published_ports,
                                         service_packages)

WANT_DEPENDS = {"kafka": "service_healthy", "mongo": "service_healthy", "create-topics": "service_completed_successfully"}


def build_problems(c: dict) -> list[str]:
    """Every service package runs in compose, from a SERVICE_MODULE that is a package with __main__."""
    problems: list[str] = []
    apps, packages = app_services(c), service_packages()
    for name, module in apps.items():
        if module not in packages:
            problems.append(f"{name}: SERVICE_MODULE {module!r} is not a service package with __main__.py")
        command = c["services"][name].get("command")
        if command and (command.split() if isinstance(command, str) else command)[-3:] != ["python", "-m", module]:
            problems.append(f"{name}: command {command!r} does not run its SERVICE_MODULE")
    for module in sorted(set(packages) - set(apps.values())):
        problems.append(f"service package {module} is not in docker-compose.yml")
    ct = c["services"].get("create-topics", {})
    command = ct.get("command") or ["python", "-m", build_args(ct).get("SERVICE_MODULE", "")]
    command = command.split() if isinstance(command, str) else command
    if command[-3:] != ["python", "-m", "shared.runtime.create_topics"]:
        problems.append(f"create-topics runs {command!r}")
    return problems


def grace_seconds(text: str) -> float:
    """A compose duration ("60s", "1m30s") in seconds."""
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}
    return sum(float(n) * units[u] for n, u in re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", text))


def startup_problems(c: dict) -> list[str]:
    """Each service waits for a healthy broker and store and the topics, is healthy on GET /readyz
    (compose never restarts an unhealthy container: healthy means ready), and gets time to drain."""
    problems: list[str] = []
    for name in app_services(c):
        svc = c["services"][name]
        deps = svc.get("depends_on") or {}
        for dep, cond in WANT_DEPENDS.items():
            got = (deps.get(dep) or {}).get("condition") if isinstance(deps, dict) else None
            if got != cond:
                problems.append(f"{name} depends_on {dep}: condition {got!r}, want {cond!r}")
        test = " ".join(map(str, (svc.get("healthcheck") or {}).get("test") or []))
        if "/readyz" not in test or "HTTP_PORT" not in test:
            problems.append(f"{name}: healthcheck does not GET /readyz on HTTP_PORT")
        # The drain: HTTP, in-flight records and each loop's last flush may each take the grace.
        needed = 3 * float(env_of(svc).get("SHUTDOWN_GRACE_SECONDS") or 15)
        if grace_seconds(str(svc.get("stop_grace_period", "10s"))) < needed:
            problems.append(f"{name}: stop_grace_period under {needed:.0f}s: SIGKILL would cut the drain short")
    return problems


def http_problems(c: dict) -> list[str]:
    """HTTP on all interfaces, published on its own host port, PUBLIC_BASE_URL = that host address."""
    problems: list[str] = []
    seen: dict[int, str] = {}
    for name in app_services(c):
        svc, env = c["services"][name], env_of(c["services"][name])
        if env.get("HTTP_HOST") != "0.0.0.0":
            problems.append(f"{name}: HTTP_HOST must be 0.0.0.0 (127.0.0.1 is unreachable from outside the container)")
        host_port = published_ports(svc).get(int(env.get("HTTP_PORT", "8080")))
        if host_port is None:
            problems.append(f"{name}: HTTP_PORT {env.get('HTTP_PORT')} is not published")
            continue
        if host_port in seen:
            problems.append(f"{name}: host port {host_port} already used by {seen[host_port]}")
        seen[host_port] = name
        url = urlsplit(env.get("PUBLIC_BASE_URL", ""))
        if (url.scheme, url.hostname, url.port) != ("http", "localhost", host_port) or url.path not in ("", "/"):
            problems.append(f"{name}: PUBLIC_BASE_URL {env.get('PUBLIC_BASE_URL')!r} is not http://localhost:{host_port}")
    return problems


def env_consistency_problems(c: dict) -> list[str]:
    """create-topics and every service see the same topics and store; each service has its own name."""
    problems: list[str] = []
    apps, packages = app_services(c), service_packages()
    clients = {n: env_of(c["services"][n]) for n in ("create-topics", *apps)}
    for key in (*SERVICE_ENV, *TOPIC_ENV):
        values = {n: e.get(key) for n, e in clients.items() if key != "HTTP_PORT" or n != "create-topics"}
        if len(set(values.values())) != 1 or None in values.values():
            problems.append(f"{key} differs or is missing: {values}")
    for name, module in apps.items():
        got = clients[name].get("SERVICE_NAME")
        forced = main_service_name(packages[module]) if module in packages else None
        if got != name or (forced and forced != got):
            problems.append(f"{name}: SERVICE_NAME {got!r}, want {name!r} (= what {module}.inject.main() uses: {forced!r})")
    return problems


def by_module(c: dict, module: str) -> str:
    """The compose service running `module`."""
    return next(n for n, m in app_services(c).items() if m == module)


def mail_and_links_problems(c: dict) -> list[str]:
    """Notifier sends to the mail catcher and links cases to the staff web pages; approval has a link secret."""
    problems: list[str] = []
    services = c["services"]
    notifier, web = env_of(services[by_module(c, "notifier")]), env_of(services[by_module(c, "web")])
    catcher = services.get(notifier.get("SMTP_HOST", ""))
    if not catcher or not MAIL_CATCHER_IMAGE.fullmatch(catcher.get("image", "")):
        problems.append(f"notifier SMTP_HOST {notifier.get('SMTP_HOST')!r} is not the mail catcher (axllent/mailpit)")
    else:
        smtp_port = env_of(catcher).get("MP_SMTP_BIND_ADDR", "0.0.0.0:1025").rsplit(":", 1)[1]
        if notifier.get("SMTP_PORT") != smtp_port:
            problems.append(f"notifier SMTP_PORT {notifier.get('SMTP_PORT')!r}, the catcher listens on {smtp_port}")
        if published_ports(catcher).get(8025) is None:
            problems.append("the mail catcher's web UI (8025) is not published")
    if not re.fullmatch(r"[^@\s]+@[^@\s]+", notifier.get("SMTP_FROM", "")):
        problems.append(f"notifier SMTP_FROM {notifier.get('SMTP_FROM')!r} is not an address")
    if notifier.get("CASE_LINK_BASE") != web.get("PUBLIC_BASE_URL"):
        problems.append(f"notifier CASE_LINK_BASE {notifier.get('CASE_LINK_BASE')!r} is not web's address")
    approval = env_of(services[by_module(c, "approval")])
    if notifier.get("APPROVAL_PUBLIC_URL") != approval.get("PUBLIC_BASE_URL"):
        problems.append(f"notifier APPROVAL_PUBLIC_URL {notifier.get('APPROVAL_PUBLIC_URL')!r} is not approval's address")
    # Each deployment its own secret: required from the environment, never a literal or a default in the file.
    if not re.fullmatch(r"\$\{LINK_SECRET:\?[^}$]+\}", approval.get("LINK_SECRET", "")):
        problems.append("approval LINK_SECRET must be ${LINK_SECRET:?<why>} (required, no default)")
    for name, service in services.items():
        if "DEV_MODE" in env_of(service):
            problems.append(f"{name} sets DEV_MODE: it would accept a published link secret")
    return problems


RULES = [build_problems, startup_problems, http_problems, env_consistency_problems, mail_and_links_problems]


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.__name__)
def test_compose_service_rule_holds(compose, rule):
    assert rule(compose) == []


def test_every_service_package_is_a_compose_service(compose):
    assert set(app_services(compose).values()) == set(service_packages()) == {
        "intake", "approval", "routing", "portal_sync", "notifier", "web"}


MUTATIONS = {
    "wrong module": (build_problems, "services/intake/build/args/SERVICE_MODULE", "intake.main"),
    "module not a service": (build_problems, "services/notifier/build/args/SERVICE_MODULE", "notifier.inject"),
    "service missing": (build_problems, "services/routing", DELETE),
    "routing starts early": (startup_problems, "services/routing/depends_on/create-topics/condition", "service_started"),
    "mongo only started": (startup_problems, "services/approval/depends_on/mongo/condition", "service_started"),
    "no portal-sync healthcheck": (startup_problems, "services/portal-sync/healthcheck", DELETE),
    "healthcheck on livez": (startup_problems, "services/intake/healthcheck/test",
                             ["CMD", "python", "-c", "import os, urllib.request; urllib.request.urlopen("
                              "'http://127.0.0.1:' + os.environ['HTTP_PORT'] + '/livez')"]),
    "default stop grace": (startup_problems, "services/notifier/stop_grace_period", DELETE),
    "grace under the drain": (startup_problems, "services/routing/environment/SHUTDOWN_GRACE_SECONDS", "30"),
    "http on loopback": (http_problems, "services/notifier/environment/HTTP_HOST", "127.0.0.1"),
    "port not published": (http_problems, "services/routing/ports", ["8083:9000"]),
    "duplicate host port": (http_problems, "services/notifier/ports", ["8082:8080"]),
    "approval links to intake": (http_problems, "services/approval/environment/PUBLIC_BASE_URL", "http://localhost:8081"),
    "container address in link": (http_problems, "services/approval/environment/PUBLIC_BASE_URL", "http://approval:8080"),
    "topic mismatch": (env_consistency_problems, "services/create-topics/environment/TOPIC_CASE_EVENTS", "cases.events"),
    "routing topic mismatch": (env_consistency_problems, "services/routing/environment/TOPIC_ROUTING_COMMANDS", "routing.cmds"),
    "service name": (env_consistency_problems, "services/portal-sync/environment/SERVICE_NAME", "portal_sync"),
    "smtp to loopback": (mail_and_links_problems, "services/notifier/environment/SMTP_HOST", "localhost"),
    "smtp wrong port": (mail_and_links_problems, "services/notifier/environment/SMTP_PORT", "25"),
    "catcher not mailpit": (mail_and_links_problems, "services/mailpit/image", "mailhog/mailhog"),
    "case links to approval": (mail_and_links_problems, "services/notifier/environment/CASE_LINK_BASE", "http://localhost:8082"),
    "no link secret": (mail_and_links_problems, "services/approval/environment/LINK_SECRET", DELETE),
    "literal link secret": (mail_and_links_problems, "services/approval/environment/LINK_SECRET",
                            "a-literal-secret-of-more-than-32-bytes-in-the-file"),
    "defaulted link secret": (mail_and_links_problems, "services/approval/environment/LINK_SECRET",
                              "${LINK_SECRET:-local-compose-link-secret-not-for-production}"),
    "dev mode": (mail_and_links_problems, "services/approval/environment/DEV_MODE", "true"),
    "approval links elsewhere": (mail_and_links_problems, "services/notifier/environment/APPROVAL_PUBLIC_URL",
                                 "https://evil.example"),
}


@pytest.mark.parametrize("name", MUTATIONS)
def test_compose_service_rule_catches_breakage(compose, name):
    rule, path, value = MUTATIONS[name]
    assert rule(mutated(compose, path, value)), f"{rule.__name__} did not notice: {name}"
