"""`backbone case show ID`: a case's state, history and approval history from intake's read API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.panel import Panel

from shared.cli import render
from shared.cli.token import TokenError, bearer

app = typer.Typer(help="Cases, as intake serves them (GET /cases/{id}).", no_args_is_help=True)
STATE_KEYS = ("id", "case_type", "gbu", "account_id", "subject", "status", "assignee", "queue", "created_at",
              "updated_at", "due_date")


def fetch(base: str, case_id: str, token: str, timeout: float = 10.0) -> dict[str, Any]:
    """GET {base}/cases/{id}; raises LookupError on 404 and RuntimeError on any other refusal."""
    response = httpx.get(f"{base.rstrip('/')}/cases/{case_id}", headers={"Authorization": f"Bearer {token}"},
                         timeout=timeout)
    if response.status_code == 404:
        raise LookupError(f"no case {case_id}")
    if response.status_code != 200:
        try:
            error = response.json().get("error", response.text)
        except ValueError:
            error = response.text
        raise RuntimeError(f"intake answered {response.status_code}: {error}")
    return response.json()


def changes(items: list[Any]) -> str:
    """`field: before -> after` for each change of a history entry."""
    return "; ".join(f"{c.get('field')}: {render.brief(c.get('before'), 40)} -> {render.brief(c.get('after'), 60)}"
                     if isinstance(c, dict) else render.brief(c, 60) for c in items)


def show_case(doc: dict[str, Any]) -> None:
    """State, sections, approval history, history and advice, as tables."""
    case = doc.get("case", {})
    head = "\n".join(f"[bold]{k}[/bold]: {render.escape(str(case[k]))}" for k in STATE_KEYS if case.get(k) is not None)
    render.console.print(Panel(head or "(no state)", title=f"case {render.escape(str(case.get('id', '')))}"))
    for section in doc.get("sections", []):
        rows = [(f.get("label") or f.get("name"), f.get("value")) for f in section.get("fields", [])]
        render.console.print(render.table(section.get("title", ""), ["field", "value"], rows))
    related = {k: v for k, v in doc.get("related", {}).items() if v and not k.endswith("_count")}
    for name, items in related.items():
        render.console.print(render.table(name, ["item"], [(item,) for item in items]))
    approvals = [(a.get("at"), a.get("step"), a.get("approver"), a.get("on_behalf_of"), a.get("decision"),
                  a.get("kind"), a.get("comment")) for a in doc.get("approval_history", [])]
    render.console.print(render.table("approval history", ["at", "step", "approver", "on behalf of", "decision",
                                                           "kind", "comment"], approvals) if approvals
                         else "approval history: none")
    history = [(h.get("at"), h.get("actor"), h.get("action"), h.get("kind"), changes(h.get("changes") or []))
               for h in doc.get("history", [])]
    render.console.print(render.table("history (oldest first)", ["at", "actor", "action", "kind", "changes"], history))
    advice = [(a.get("code"), a.get("message")) for a in doc.get("advice", [])]
    if advice:
        render.console.print(render.table("advice", ["code", "message"], advice))


@app.command()
def show(ctx: typer.Context, case_id: Annotated[str, typer.Argument(help="The case id.")],
         token: Annotated[str | None, typer.Option(envvar="BACKBONE_TOKEN", help="Bearer token.")] = None,
         who: Annotated[str | None, typer.Option(envvar="BACKBONE_WHO", help="Mint a token for this person.")] = None,
         oidc_dir: Annotated[Path | None, typer.Option(help="The dev issuer's key directory.")] = None,
         url: Annotated[str | None, typer.Option(help="intake's HTTP base (default INTAKE_HTTP).")] = None,
         raw: Annotated[bool, typer.Option("--json", help="Print intake's answer as JSON.")] = False) -> None:
    """Show a case: state, sections, related lists, approval history, history, advice."""
    base = url or ctx.obj.get("INTAKE_HTTP")
    if not base:
        render.fail("intake's address is not known: INTAKE_HTTP in the env file, or --url")
    try:
        doc = fetch(base, case_id, bearer(token, who, oidc_dir))
    except TokenError as exc:
        render.fail(str(exc))
    except LookupError as exc:
        render.fail(str(exc), code=1)
    except (RuntimeError, httpx.HTTPError) as exc:
        render.fail(str(exc), code=3)
    if raw:
        render.console.print_json(json.dumps(doc))
    else:
        show_case(doc)
