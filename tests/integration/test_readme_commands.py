"""Every command the README prints, and every docs/*.md block fenced `sh runnable`, runs as printed on a fresh stack.

The stack is `make run`'s own launcher (LocalStack) in a scratch checkout: `.venv` (a link), the Makefile and
the token minter, and `.local/stack.env` written as `make run` writes it, so `set -a; . .local/stack.env`,
`make -s token WHO=...` and `.venv/bin/python` mean there what they mean in the repository. The blocks run
exactly as printed, in order (README first), in one `bash -e -o pipefail` session, as a person would type them
in one terminal (the docs' blocks use the environment the README's first block loads); curl is printed with
`-f`, so an HTTP error fails it. Before the docs' blocks the session waits (at most a minute) until intake
serves the README's CASE-1, as a reader would: the docs read it. Then no command any block sent may have been refused
(`case.command_rejected`) or dead-lettered. The README's one other shell block is `make run` / `make test`:
this test stands on the first and is part of the second.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from shared.settings import Topics
from tests.support import credentials
from tests.support.kafka_io import TopicReader

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
RUNNABLE = "sh runnable"
# Not printed anywhere: the pause between the README's Try it (a command sent) and the docs (which read its case).
WAIT_FOR_CASE_1 = ('for i in $(seq 120); do curl -fs -o /dev/null -H "Authorization: Bearer $(make -s token WHO=mary)" '
                   '$INTAKE_HTTP/cases/CASE-1 && break; sleep 0.5; done')
FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```", re.S | re.M)


def shell_blocks(path: Path) -> list[tuple[str, str]]:
    """(info string, body) of every fenced block of a shell language in a Markdown file."""
    return [(info.strip(), body) for info, body in FENCE.findall(path.read_text())
            if info.strip().split(" ")[0] in ("sh", "bash", "shell", "console")]


def scratch_checkout(root: Path) -> Path:
    """What the printed commands touch besides the stack: the venv, the Makefile, the token minter."""
    root.mkdir()
    (root / ".venv").symlink_to(ROOT / ".venv")
    shutil.copy(ROOT / "Makefile", root / "Makefile")
    (root / "deploy" / "local").mkdir(parents=True)
    shutil.copy(ROOT / "deploy" / "local" / "oidc_issuer.py", root / "deploy" / "local")  # keys: <root>/.local/stack/oidc
    return root


async def refusals_after(stack_env: dict[str, str], users: dict[str, str], case_id: str) -> tuple[list, list]:
    """Wait for `case.opened` of `case_id` (or a refusal); return every rejection and dead letter of the crm ingress."""
    topics = Topics()
    dlq = topics.dlq(topics.sent_by("crm").case_commands)
    with credentials.using(users):
        async with TopicReader(stack_env["KAFKA_BOOTSTRAP_SERVERS"], topics.case_events, topics.case_rejections,
                               dlq) as reader:
            await reader.wait_for(lambda rs: any(r.topic == topics.case_rejections or r.topic == dlq or (
                r.topic == topics.case_events and r.key == case_id.encode() and b'"case.opened"' in r.value)
                for r in rs), timeout=120)
            await reader.quiet(3)
    rejected = [json.loads(r.value) for r in reader.records if r.topic == topics.case_rejections]
    return rejected, [r for r in reader.records if r.topic == dlq]


def test_readme_and_docs_commands_run_as_printed(tmp_path: Path):
    from stack import LocalStack, write_env_file  # deploy/local, on pytest's pythonpath

    readme = shell_blocks(ROOT / "README.md")
    not_run = [body for info, body in readme if info != RUNNABLE]
    assert [line.split()[:2] for body in not_run for line in body.splitlines()] == [["make", "run"], ["make", "test"]]
    blocks = [(f"README.md #{i}", body) for i, (info, body) in enumerate(readme) if info == RUNNABLE]
    blocks += [(f"{doc.relative_to(ROOT)} #{i}", body) for doc in sorted((ROOT / "docs").glob("*.md"))
               for i, (info, body) in enumerate(shell_blocks(doc)) if info == RUNNABLE]
    assert any("case.open" in body for _, body in blocks), "the Try it command is not run"

    checkout = scratch_checkout(tmp_path / "checkout")
    stack = LocalStack(checkout / ".local" / "stack", log_dir=tmp_path / "logs").start()
    try:
        write_env_file(stack.env, checkout / ".local" / "stack.env")
        env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
        session = []
        for n, (where, body) in enumerate(blocks):
            (tmp_path / f"block{n}.sh").write_text(body)
            if not where.startswith("README") and WAIT_FOR_CASE_1 not in session:
                session.append(WAIT_FOR_CASE_1)
            session.append(f"echo '>>> {where}' >&2; . {tmp_path / f'block{n}.sh'}")
        done = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", "\n".join(session)], cwd=checkout, env=env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"failed ({done.returncode}) in the last block named:\n{done.stdout}\n{done.stderr}"
        assert done.stderr.count(">>> ") == len(blocks), done.stderr
        rejected, dead = asyncio.run(refusals_after(stack.env, stack.users, "CASE-1"))
    finally:
        stack.stop()
    assert rejected == [], [r["data"].get("reason") for r in rejected]
    assert dead == []
