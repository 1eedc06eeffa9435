"""Account-directory entries (maintained by `account.upsert`, stored by the adapter)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

from intake.core.case_parts import AccountDetails
from shared.contract.commands import AccountUpsert, SapCodes

SEED_ACCOUNTS_FILE = Path(__file__).resolve().parent.parent / "data" / "accounts.yaml"


class Account(BaseModel):
    """One account of the directory: name, SAP codes, classification, owner (seller), country."""

    # Entries come back from the store; tolerate its bookkeeping keys (e.g. `_id`) instead of failing a case.open.
    model_config = ConfigDict(extra="ignore")

    account_id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    sap_codes: SapCodes = Field(default_factory=SapCodes)
    customer_classification: str | None = None
    owner: str | None = None
    country: str | None = None

    @classmethod
    def from_upsert(cls, command: AccountUpsert) -> "Account":
        """The account an `account.upsert` command describes."""
        return cls.model_validate(command.model_dump(exclude={"actor"}))

    def details(self) -> AccountDetails:
        """The part copied onto a case when it is opened."""
        return AccountDetails.model_validate(self.model_dump(exclude={"account_id"}))


@lru_cache(maxsize=1)
def _load(path: Path) -> tuple[Account, ...]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return tuple(Account.model_validate(a) for a in raw.get("accounts", []))


def load_seed_accounts(path: Path | None = None) -> dict[str, Account]:
    """Sample accounts shipped with intake (for local runs and tests), keyed by account id."""
    return {a.account_id: a for a in _load(path or SEED_ACCOUNTS_FILE)}
