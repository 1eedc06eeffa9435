"""Approval's commands: decisions and the rest on a case, absences and rule sets, each kind through its unit of work."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from approval.core import Absence, CaseApprovals, Refused, RuleSet
from approval.core.commands import Parsed, absence_of, link_claim, on_case, read_command, rule_set_of
from approval.core.tokens import signature_of
from approval.ports.store import StoredRules
from approval.service_base import Lookups, ServiceBase
from shared.contract.approval import RULES_SUBJECT
from shared.contract.envelope import CloudEvent, derived_id
from shared.runtime.unit_of_work import Message, Step

KINDS = {"approval.set_out_of_office": "absence", "rules.upsert": "rules"}  # the rest: case commands


class CommandHandling(ServiceBase):
    """Batches of `approval.commands`."""

    async def handle_command(self, command: CloudEvent, principal: str) -> str:
        """One approval command (tests): `accepted`, `rejected` or `duplicate`."""
        return (await self.handle_commands([Message(command, principal)]))[0]

    async def handle_commands(self, messages: Sequence[Message]) -> list[str]:
        """A batch of approval commands: case commands, absences and rule sets, each kind through its unit of work."""
        read: dict[str, Parsed | Refused] = {}
        kinds: dict[str, list[int]] = {"case": [], "absence": [], "rules": []}
        for i, m in enumerate(messages):
            parsed = read.setdefault(m.event.id, read_command(m.event, m.principal or "", self.directory, self._principals))
            if isinstance(parsed, Parsed) and parsed.command.type == "rules.upsert" and m.key != RULES_SUBJECT:
                parsed = read[m.event.id] = Refused("invalid", f"The subject of rules.upsert must be {RULES_SUBJECT}.")
            kinds[KINDS.get(parsed.command.type, "case") if isinstance(parsed, Parsed) else "case"].append(i)
        types = {p.command.type for p in read.values() if isinstance(p, Parsed)}
        tokens = [signature_of(p.data.token) for p in read.values()
                  if isinstance(p, Parsed) and p.command.type == "approval.decide" and p.data.token]
        # The stored rule set is read only for a batch that needs it (reassigners); rules.upsert reads its own.
        found = await self._lookups() if "approval.reassign" in types else Lookups(self.rules.current)
        found.links = await self.store.links_used(tokens) if tokens else {}
        outcomes: dict[int, str] = {}
        accepted: dict[str, Any] = {}  # what an accepted absence or rule set puts in force, by command id
        for kind, uow, decide in (("case", self._cases, self._on_command), ("absence", self._absences, self._on_absence),
                                  ("rules", self._rule_sets, self._on_rules)):
            if kinds[kind]:
                done = await uow.run([messages[i] for i in kinds[kind]],
                                     lambda s, m, d=decide: d(s, m, read[m.event.id], found, accepted))
                outcomes.update(zip(kinds[kind], done, strict=True))
        await self._put_in_force([accepted[messages[i].event.id] for i in kinds["absence"] + kinds["rules"]
                                  if outcomes[i] == "accepted"])
        return [outcomes[i] for i in range(len(messages))]

    async def _on_command(self, state: CaseApprovals | None, message: Message, parsed: Parsed | Refused,
                          found: Lookups, _: dict) -> Step[CaseApprovals]:
        if isinstance(parsed, Refused):
            return Step.refused(parsed.code, parsed.reason)
        command, data = parsed.command, parsed.data
        if command.type == "approval.decide" and data.token is not None and data.case_id == command.subject:
            refusal = await self._spend(state, command, data, found)
            if refusal:
                return Step.refused(refusal.code, refusal.reason, about=command)
        return self._step(on_case(state, command.type, command.subject or "", data, self.clock(), found.rules,
                                  self.directory, self.linker), message, about=command)

    async def _spend(self, state: CaseApprovals | None, command: CloudEvent, data: Any, found: Lookups) -> Refused | None:
        """Single use: the first command that presents a link token spends it; any other is a replay.

        The link page spends it before sending its command, with that command's id (found in the batch's look-up).
        """
        claim = link_claim(state, command.subject or "", data, self.linker)
        if isinstance(claim, Refused):
            return claim
        token_id = signature_of(data.token)
        if token_id not in found.links:
            found.links[token_id] = await self.store.spend_link(token_id, claim.case_id, command.id,
                                                                datetime.fromtimestamp(claim.expires, UTC))
        return None if found.links[token_id] == command.id else Refused("already_decided", "This approval link was already used.")

    def _on_absence(self, state: Absence | None, message: Message, parsed: Parsed | Refused, found: Lookups,
                    accepted: dict) -> Step[Absence]:
        assert isinstance(parsed, Parsed)
        absence = absence_of(parsed.command.subject or "", parsed.data, self.directory)
        if isinstance(absence, Refused):
            return Step.refused(absence.code, absence.reason, about=parsed.command)
        accepted[message.event.id] = absence
        return Step("accepted", state=absence)

    def _on_rules(self, state: StoredRules | None, message: Message, parsed: Parsed | Refused, found: Lookups,
                  accepted: dict) -> Step[StoredRules]:
        assert isinstance(parsed, Parsed)
        command, data = parsed.command, parsed.data
        in_force = self.rules.consider(state.raw, state.version) if state else self.rules.current
        result = rule_set_of(data.rule_set, data.actor, in_force, self.rules.validate)
        if isinstance(result, tuple):
            refusal, refused = result
            extra = [self._event(command.subject or command.id, "approval.rules_refused", refused, derived_id(command.id, "refused-0"),
                                 command)] if refused else []
            return Step.refused(refusal.code, refusal.reason, entries=extra, about=command)
        accepted[message.event.id] = result
        updated = {"version": result.version, "previous_version": in_force.version, "rule_count": len(result.rules),
                   "by": data.actor.id}
        return Step("accepted", state=StoredRules(data.rule_set, result.version),
                    entries=[self._event(RULES_SUBJECT, "approval.rules_updated", updated, derived_id(command.id, 0), command)])

    async def _put_in_force(self, accepted: list[Any]) -> None:
        """Rule sets stored by this batch are used at once; absences stored by it move pending steps (if in force)."""
        for rule_set in (a for a in accepted if isinstance(a, RuleSet)):
            self.rules.accept(rule_set)
        absences = [a for a in accepted if isinstance(a, Absence)]
        for absence in absences:
            if not absence.active(self.clock()):
                self.due_hint(absence.start)
        await self.apply_absences(absences)

