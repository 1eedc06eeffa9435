"""A service run as a real process, the way the stack runs it."""

from __future__ import annotations

import sys
from pathlib import Path

from processes import Child, free_port, http_ok, wait_until  # deploy/local

from tests.support import credentials


class ServiceProcess:
    """`python -m <module>` with an env; started healthy, stopped or killed by PID."""

    def __init__(self, module: str, env: dict[str, str], log_file: Path) -> None:
        self.module, self.env, self.log_file = module, env, log_file
        self.child: Child | None = None
        self.port = 0

    @property
    def url(self) -> str:
        """Base URL of its HTTP server."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> "ServiceProcess":
        """Start and wait for /readyz to answer 200."""
        self.port = free_port()
        # The service's name as the stack runs it (`portal-sync`): its principal, and the consumer group its ACLs name.
        name = self.module.replace("_", "-")
        env = {**self.env, **credentials.env(credentials.principal_of_service(name)), "HTTP_PORT": str(self.port),
               "SERVICE_NAME": name}
        self.child = Child(self.module, [sys.executable, "-m", self.module], env=env, log_file=self.log_file)
        self.child.start()
        try:
            wait_until(lambda: http_ok(f"{self.url}/readyz"), timeout, self.module, self.child)
        except Exception:
            print(self.log_file.read_text()[-5000:] if self.log_file.exists() else "(no log)")
            raise
        return self

    def stop(self, timeout: float = 15.0) -> None:
        """Graceful stop: SIGTERM, then SIGKILL if it has not exited after `timeout`."""
        if self.child:
            self.child.stop(timeout)

    @property
    def returncode(self) -> int | None:
        """Exit status of the last run (-9: it had to be killed); None while it runs."""
        return self.child.proc.returncode if self.child and self.child.proc else None

    def kill(self) -> None:
        """SIGKILL: a crash."""
        if self.child:
            self.child.kill()

    def log(self) -> str:
        """Everything the process printed."""
        return self.log_file.read_text() if self.log_file.exists() else ""
