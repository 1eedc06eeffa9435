"""Where the CLI connects: `.local/stack.env` (or `--env-file`) under the process environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from shared.runtime.kafka_security import env_prefix, for_principal
from shared.settings import Settings

DEFAULT_ENV_FILE = Path(".local/stack.env")
ADMIN = "admin"  # the stack's super user: reads every topic, creates topics, re-drives dead letters
S = TypeVar("S", bound=Settings)


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=value lines (blank lines and `#` comments skipped); {} when the file is not there."""
    if not path.exists():
        return {}
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            out[key.strip().removeprefix("export ").strip()] = value.strip().strip('"').strip("'")
    return out


@dataclass
class Env:
    """The file's values with the process environment over them (as pydantic reads a dotenv file)."""

    path: Path
    values: dict[str, str]

    @classmethod
    def load(cls, path: Path | None = None, environ: Mapping[str, str] | None = None) -> "Env":
        """The env file (default `.local/stack.env`) merged under `environ` (default: os.environ)."""
        path = Path(path or DEFAULT_ENV_FILE)
        return cls(path, {**read_env_file(path), **(os.environ if environ is None else environ)})

    def get(self, key: str, default: str | None = None) -> str | None:
        """One value."""
        return self.values.get(key, default)

    def admin_principal(self) -> str | None:
        """`admin` when its credentials are given (the local stack), else None (KAFKA_SASL_USERNAME is used)."""
        return ADMIN if self.values.get(env_prefix(ADMIN) + "USERNAME") else None

    def kafka(self, principal: str | None = None) -> dict[str, Any]:
        """aiokafka options of `principal` (default: the admin, else the client's own KAFKA_SASL_*)."""
        return for_principal(principal or self.admin_principal(), self.values).options()

    @property
    def bootstrap(self) -> str:
        """KAFKA_BOOTSTRAP_SERVERS."""
        return self.values.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")

    def settings(self, cls: type[S] = Settings, service: str = "backbone-cli", **overrides: Any) -> S:  # type: ignore[assignment]
        """`cls` read from these values, connected to Kafka as the admin (when the file gives one)."""
        principal = self.admin_principal()
        if principal:
            sec = for_principal(principal, self.values)
            overrides = {"kafka_sasl_username": sec.username, "kafka_sasl_password": sec.password, **overrides}
        saved = dict(os.environ)
        os.environ.update(self.values)  # pydantic-settings reads os.environ; nested LIMITS__* included
        try:
            return cls(service_name=service, **overrides)
        finally:
            os.environ.clear()
            os.environ.update(saved)

    def services_http(self) -> dict[str, str]:
        """`<SERVICE>_HTTP[_n]` -> URL, as `make run` writes them."""
        return {k: v for k, v in sorted(self.values.items()) if "_HTTP" in k and v.startswith("http")}
