"""What `GET /cases/{id}` answers: the stored case laid out by its lifecycle's sections, its lists and histories.

Pure: it works on the case as stored (JSON-mode dicts), so whatever a newer intake keeps on a case (more
approval-history fields, advice) is read without this module knowing it first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shared.lifecycles import Lifecycle

PORTAL = "system:portal-sync"  # relays what customers write in the portal: their history, not the system's
# Shown at the top level of the answer (shaped there); a section field naming one points at it with `see`.
SHOWN_ELSEWHERE = ("history", "approval_history", "advice")
ATTRIBUTE_LABELS = {
    "id": "Case Number", "case_type": "Case Type", "gbu": "GBU", "account_id": "Account ID", "account": "Account",
    "subject": "Subject", "description": "Description", "description_notes": "Messages and Notes",
    "contact": "Contact", "cause": "Cause", "status": "Status", "created_at": "Opened", "updated_at": "Last Modified",
    "created_by": "Opened By", "assignee": "Case Owner", "queue": "Queue", "resolution": "Resolution",
    "resolution_date": "Resolution Date", "feasibility_conclusion": "Feasibility Conclusion", "feasible": "Feasible",
    "customer_satisfaction": "Customer Satisfaction", "closure_reason": "Closure Reason",
    "duplicate_of": "Duplicate Of", "closure_comment": "Closure Comment", "closed_at": "Closed",
    "closed_by": "Closed By", "related_products": "Related Products", "related_product_count": "Number of Products",
    "additional_accounts": "Additional Accounts", "shipping_sites": "Shipping Sites", "team": "Case Team",
    "sample_requests": "Sample Requests", "quote": "Quote", "order": "Order", "approval_history": "Approval History",
    "history": "Case History", "advice": "Advice",
}


def history_kind(actor_id: str, is_customer: Callable[[str], bool]) -> str:
    """`customer` for a customer (or the portal speaking for one), `automatic` for a system, `manual` for a person."""
    if actor_id == PORTAL or is_customer(actor_id):
        return "customer"
    return "automatic" if actor_id.startswith("system:") else "manual"


def history_view(entries: list[dict[str, Any]], is_customer: Callable[[str], bool]) -> list[dict[str, Any]]:
    """History entries as the API shows them: who, when, what (the command), which kind, the changes."""
    return [{"at": e["at"], "actor": e["actor_id"], "action": e["command_type"],
             "kind": history_kind(e["actor_id"], is_customer), "changes": e.get("changes") or [],
             "command_id": e.get("command_id"), "comment": e.get("comment")} for e in entries]


def approval_view(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Approval decisions with every key the contract names (absent ones None); stored extras kept."""
    out = []
    for e in entries:
        approver, decision = e.get("approver") or "", e.get("decision")
        automatic = decision == "auto_approve" or approver.startswith("system:")
        out.append({**e, "step": e.get("step"), "approver": approver, "on_behalf_of": e.get("on_behalf_of"),
                    "decision": decision, "comment": e.get("comment"), "at": e.get("at"),
                    "kind": e.get("kind") or ("automatic" if automatic else "manual")})
    return out


def advice_view(case: dict[str, Any]) -> list[dict[str, Any]]:
    """The advisory notes the case keeps ([] when it keeps none)."""
    return [{**a, "code": a.get("code"), "message": a.get("message"), "at": a.get("at")}
            for a in case.get("advice") or []]


def related(case: dict[str, Any]) -> dict[str, Any]:
    """The related lists: products (with their count), accounts, shipping sites, case team, sample requests."""
    products = case.get("related_products") or []
    return {"products": products, "product_count": case.get("related_product_count", len(products)),
            "accounts": case.get("additional_accounts") or [], "shipping_sites": case.get("shipping_sites") or [],
            "team": case.get("team") or [], "sample_requests": case.get("sample_requests") or []}


def _field(case: dict[str, Any], ref: str, lifecycle: Lifecycle) -> dict[str, Any]:
    if ref.startswith("fields."):
        name = ref.removeprefix("fields.")
        spec = next((f for f in lifecycle.fields if f.name == name), None)
        label = spec.label if spec else name.replace("_", " ").capitalize()
        return {"name": ref, "label": label, "value": (case.get("fields") or {}).get(name)}
    label = ATTRIBUTE_LABELS.get(ref, ref.replace("_", " ").capitalize())
    if ref in SHOWN_ELSEWHERE:
        return {"name": ref, "label": label, "value": None, "see": ref}
    return {"name": ref, "label": label, "value": case.get(ref)}


def sections(case: dict[str, Any], lifecycle: Lifecycle | None) -> list[dict[str, Any]]:
    """The case laid out as its lifecycle file's `sections` say, in file order ([] for an unknown type)."""
    if lifecycle is None:
        return []
    return [{"code": s.code, "title": s.label, "fields": [_field(case, ref, lifecycle) for ref in s.fields]}
            for s in lifecycle.sections]


def case_view(case: dict[str, Any], history: list[dict[str, Any]], lifecycle: Lifecycle | None,
              is_customer: Callable[[str], bool]) -> dict[str, Any]:
    """The whole answer of `GET /cases/{id}`; `history` is the case's full history, oldest first."""
    state = {k: v for k, v in case.items() if k != "history"}
    status = lifecycle.status(state.get("status", "")) if lifecycle else None
    if status is not None:  # what the page shows beside the code, and whether the case is still open
        state = {**state, "status_label": status.label, "status_category": status.category}
    return {"case": state, "sections": sections(state, lifecycle), "related": related(state),
            "approval_history": approval_view(state.get("approval_history") or []),
            "history": history_view(history, is_customer), "advice": advice_view(state)}
