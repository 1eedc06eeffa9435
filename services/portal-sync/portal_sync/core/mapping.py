"""The portal status mapping (data, versioned) and its validation at load."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

DEFAULT_MAPPING = Path(__file__).resolve().parent.parent / "data" / "portal_mapping.yaml"


class MappingError(ValueError):
    """The mapping file is unusable; the message says what to fix."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CaseTypeMapping(_Strict):
    """How the portal shows one case type: its label and each internal status."""

    portal_type: str = Field(min_length=1)
    statuses: dict[str, str]


class MessagePolicy(_Strict):
    """Which messages of a case the record carries, and how many."""

    keep: int = Field(20, ge=1, le=100, description="The latest N messages are in the record.")
    staff_messages: bool = Field(True, description="Staff messages on the case's thread are shown.")


class PortalMapping(_Strict):
    """Internal status -> portal status, per case type; types absent are not projected."""

    version: int = Field(ge=1)
    portal_statuses: list[str] = Field(min_length=1)
    messages: MessagePolicy = Field(default_factory=MessagePolicy)
    case_types: dict[str, CaseTypeMapping]

    def shows(self, case_type: str) -> bool:
        """True when the portal shows cases of this type."""
        return case_type in self.case_types

    def portal_type(self, case_type: str) -> str:
        """The portal's label of a projected case type."""
        return self.case_types[case_type].portal_type

    def portal_status(self, case_type: str, status: str) -> str | None:
        """The portal status of an internal status, None if unmapped."""
        return self.case_types[case_type].statuses.get(status)


def parse_mapping(text: str, known: dict[str, set[str]] | None = None, where: str = "mapping") -> PortalMapping:
    """Parse and validate; `known` (case type -> its statuses) makes every status be checked against intake."""
    try:
        mapping = PortalMapping.model_validate(yaml.safe_load(text))
    except (yaml.YAMLError, ValidationError) as exc:
        raise MappingError(f"{where}: {exc}") from None
    problems = _problems(mapping, known)
    if problems:
        raise MappingError(f"{where}: " + "; ".join(problems))
    return mapping


def load_mapping(path: Path | str | None = None, known: dict[str, set[str]] | None = None) -> tuple[PortalMapping, str]:
    """The mapping at `path` (default: the packaged file) and its text (stored with each generation)."""
    file = Path(path) if path else DEFAULT_MAPPING
    try:
        text = file.read_text()
    except OSError as exc:
        raise MappingError(f"{file}: cannot read the mapping ({exc.strerror})") from None
    return parse_mapping(text, known, where=str(file)), text


def _problems(mapping: PortalMapping, known: dict[str, set[str]] | None) -> list[str]:
    problems = []
    allowed = set(mapping.portal_statuses)
    for case_type, spec in mapping.case_types.items():
        for status, shown in spec.statuses.items():
            if shown not in allowed:
                problems.append(f"{case_type}.{status} maps to '{shown}', which is not one of portal_statuses "
                                f"({', '.join(mapping.portal_statuses)})")
        if known is None:
            continue
        if case_type not in known:
            problems.append(f"unknown case type '{case_type}' (known: {', '.join(sorted(known))})")
            continue
        for status in sorted(set(spec.statuses) - known[case_type]):
            problems.append(f"unknown status '{status}' for case type '{case_type}' "
                            f"(its statuses: {', '.join(sorted(known[case_type]))})")
        for status in sorted(known[case_type] - set(spec.statuses)):
            problems.append(f"status '{status}' of case type '{case_type}' has no portal status")
    return problems
