"""deploy/Dockerfile and .dockerignore: one image recipe that can run every service, checked without Docker."""

from __future__ import annotations

import fnmatch
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.unit.deploy.manifests import DOCKERFILE, DOCKERIGNORE, ROOT, build_args, dockerfile_built


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    out, buf = [], ""
    for raw in text.splitlines():
        line = raw.strip()
        if not buf and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        buf += line
        instr, _, args = buf.strip().partition(" ")
        out.append((instr.upper(), args.strip()))
        buf = ""
    return out


def dockerfile_problems(text: str) -> list[str]:
    """Multi-stage, non-root, SERVICE_MODULE kept as ENV and exec'd, liveness (/livez) checked."""
    problems: list[str] = []
    ins = dockerfile_instructions(text)
    froms = [i for i, (k, _) in enumerate(ins) if k == "FROM"]
    if len(froms) < 2:
        problems.append("not multi-stage")
    if not froms:
        return problems
    for i in froms:
        if not ins[i][1].startswith("python:3.11-slim"):
            problems.append(f"base image {ins[i][1]!r} is not python:3.11-slim")
    final = ins[froms[-1] :]

    if not any(k == "ARG" and a.split("=")[0] == "SERVICE_MODULE" for k, a in final):
        problems.append("final stage lacks ARG SERVICE_MODULE")
    if not any(k == "ENV" and re.search(r"\bSERVICE_MODULE=\$\{?SERVICE_MODULE\}?", a) for k, a in final):
        problems.append("final stage does not persist SERVICE_MODULE as ENV")

    users = [a for k, a in final if k == "USER"]
    if not users or users[-1].split(":")[0] in ("root", "0"):
        problems.append("final stage does not switch to a non-root USER")
    elif not users[-1].split(":")[0].isdigit():
        problems.append("USER should be numeric so Kubernetes can enforce runAsNonRoot")

    if not any(k == "EXPOSE" and "8080" in a.split() for k, a in final):
        problems.append("EXPOSE 8080 missing")
    hcs = [a for k, a in final if k == "HEALTHCHECK"]
    # Orchestrators restart an unhealthy container: that is liveness, which asks no dependency.
    if not hcs or "urllib" not in hcs[-1] or "/livez" not in hcs[-1]:
        problems.append("HEALTHCHECK must GET /livez with python's urllib")
    if not any(k == "RUN" and "pip install" in a for k, a in ins[: froms[-1]] + final):
        problems.append("project is not pip-installed")

    cmds = [a for k, a in final if k == "CMD"]
    if not cmds:
        problems.append("no CMD")
    else:
        try:
            cmd = json.loads(cmds[-1])
        except json.JSONDecodeError:
            cmd = None
        # Exec form does not expand variables: a shell must do it, and exec python.
        if not (
            isinstance(cmd, list)
            and cmd[:2] in (["sh", "-c"], ["/bin/sh", "-c"])
            and re.search(r"^exec python -m \"?\$\{?SERVICE_MODULE\}?\"?$", cmd[2])
        ):
            problems.append(f"CMD {cmds[-1]!r} does not exec `python -m $SERVICE_MODULE`")
    return problems


def test_dockerfile_rules_hold():
    assert dockerfile_problems(DOCKERFILE.read_text()) == []


@pytest.mark.parametrize(
    "old,new",
    [
        ("ARG SERVICE_MODULE\n", "\n"),
        ("USER 10001:10001", "USER root"),
        ("HEALTHCHECK", "# HEALTHCHECK"),
        ("'/livez'", "'/readyz'"),
        ('CMD ["sh", "-c", "exec python -m \\"$SERVICE_MODULE\\""]', 'CMD ["python", "-m", "$SERVICE_MODULE"]'),
        ("FROM python:3.11-slim AS runtime", "FROM python:3.12-slim AS runtime"),
        ("ENV SERVICE_MODULE=${SERVICE_MODULE}", "ENV OTHER=1"),
    ],
)
def test_dockerfile_rule_catches_breakage(old, new):
    text = DOCKERFILE.read_text()
    assert old in text, f"test out of date: {old!r} not in Dockerfile"
    assert dockerfile_problems(text.replace(old, new))


def test_dockerfile_copies_exactly_what_pyproject_packages():
    """pip install . in the image must find every package pyproject declares, and the build
    context (.dockerignore) must let those folders through."""
    ins = dockerfile_instructions(DOCKERFILE.read_text())
    copied = {a.split()[0] for k, a in ins if k == "COPY" and not a.startswith("--from")}
    finder = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    for where in finder["where"]:
        top = Path(where).parts[0] if where != "." else None
        if top:
            assert top in copied, f"pyproject finds packages in {where} but the Dockerfile does not COPY {top}"
    for pattern in finder["include"]:
        top = pattern.rstrip("*").split(".")[0]
        assert any((ROOT / w / top).is_dir() for w in finder["where"]), f"{pattern} matches no folder"
        home = next(w for w in finder["where"] if (ROOT / w / top).is_dir())
        assert (home == "." and top in copied) or Path(home).parts[0] in copied
    assert "pyproject.toml" in copied
    for src in copied:
        assert not dockerignored(src), f".dockerignore drops {src}, which the Dockerfile copies"


def test_service_modules_are_packaged(compose):
    """SERVICE_MODULE of every compose service must be a package pip install . ships."""
    finder = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    for name in dockerfile_built(compose):
        module = build_args(compose["services"][name])["SERVICE_MODULE"]
        top = module.split(".")[0]
        assert any(fnmatch.fnmatch(top, p) for p in finder["include"]), f"{name}: {top} not in pyproject include"
        assert any((ROOT / w / top).is_dir() for w in finder["where"]), f"{name}: {top} not under pyproject where"



def module_check_script() -> str:
    """The python snippet the Dockerfile runs to refuse a missing or non-runnable SERVICE_MODULE."""
    runs = [a for k, a in dockerfile_instructions(DOCKERFILE.read_text()) if k == "RUN" and "find_spec" in a]
    assert len(runs) == 1, "the Dockerfile should check SERVICE_MODULE exactly once"
    found = re.search(r'python -c "(.+)"\s*$', runs[0])
    assert found, runs[0]
    return found.group(1)


def run_module_check(module: str) -> int:
    env = {"SERVICE_MODULE": module, "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-c", module_check_script()], env=env, capture_output=True).returncode


def test_build_time_module_check_accepts_every_compose_module(compose):
    """The check the image build runs passes for every SERVICE_MODULE compose builds (same install layout)."""
    modules = {build_args(compose["services"][n])["SERVICE_MODULE"] for n in dockerfile_built(compose)}
    assert {m: run_module_check(m) for m in sorted(modules)} == {m: 0 for m in sorted(modules)}


@pytest.mark.parametrize("module", ["approvals", "notifier.nope", "shared.runtime"])
def test_build_time_module_check_refuses_what_cannot_run(module):
    assert run_module_check(module) != 0


def dockerignored(path: str) -> bool:
    """Simplified .dockerignore evaluation for a top-level path: last matching rule wins."""
    excluded = False
    for raw in DOCKERIGNORE.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = line.lstrip("!").rstrip("/")
        if fnmatch.fnmatch(path, pattern):
            excluded = not negate
    return excluded


def test_dockerignore_keeps_context_small():
    for heavy in (".git", ".venv", ".local", "tests"):
        assert dockerignored(heavy), f"{heavy} is sent to the docker build context"

