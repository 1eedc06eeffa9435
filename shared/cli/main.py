"""The `backbone` command: its options and sub-commands (docs/operations.md, "The backbone CLI")."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from shared.cli import case, dlq, topics
from shared.cli.env import DEFAULT_ENV_FILE, Env
from shared.cli.health import health
from shared.cli.publish import publish
from shared.cli.rebuild import rebuild
from shared.cli.tail import tail

app = typer.Typer(name="backbone", help="Operate the case backbone: publish, show, tail, dead letters, rebuild, "
                  "topics, health.", no_args_is_help=True, pretty_exceptions_show_locals=False)


@app.callback()
def options(ctx: typer.Context,
            env_file: Annotated[Path, typer.Option(envvar="BACKBONE_ENV_FILE",
                                                   help="KEY=value file of the stack (the environment wins).")]
            = DEFAULT_ENV_FILE) -> None:
    """Read the stack's addresses and credentials."""
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)  # connection retries are said by the command itself
    ctx.obj = Env.load(env_file)


app.command()(publish)
app.command()(tail)
app.command()(rebuild)
app.command()(health)
app.add_typer(case.app, name="case")
app.add_typer(dlq.app, name="dlq")
app.add_typer(topics.app, name="topics")


def main() -> None:
    """Entry point of the `backbone` script."""
    app()


if __name__ == "__main__":
    main()
