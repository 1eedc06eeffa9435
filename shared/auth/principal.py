"""Who is calling: the token's subject looked up in the people directory (staff, or a customer's contact)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from shared.directory import Directory, load_directory


@dataclass(frozen=True)
class Principal:
    """A verified caller. Roles and account come from the directory, never from the request or the token."""

    id: str
    kind: Literal["staff", "customer"]
    roles: frozenset[str] = frozenset()
    account_id: str | None = None  # a customer's one account

    @property
    def is_staff(self) -> bool:
        """True for a person of the directory who is not a customer's contact."""
        return self.kind == "staff"

    def may_see_account(self, account_id: str | None) -> bool:
        """Staff see every account; a customer only their own."""
        return self.is_staff or (account_id is not None and account_id == self.account_id)


class Principals:
    """Resolves a token's subject; `people` is a callable so that a refreshed directory is seen at once."""

    def __init__(self, people: Callable[[], Directory] = load_directory) -> None:
        self._people = people

    def resolve(self, subject: str) -> Principal | None:
        """The principal for `subject`, or None when the directory does not know it."""
        person = self._people().get(subject)
        if person is None:
            return None
        if person.account_id is not None:  # a customer's contact: the directory says which account
            return Principal(person.id, "customer", frozenset(person.roles), person.account_id)
        return Principal(person.id, "staff", frozenset(person.roles))
