"""Reading untrusted JSON within limits: depth checked before parsing, then every value walked without recursion."""

from __future__ import annotations

import json
import re
from typing import Any

from shared.settings import Limits

# A JSON string, escapes included; possessive so that an unterminated one cannot backtrack.
_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_OPEN = frozenset(b"[{")
# Lone surrogates cannot be encoded as UTF-8 (every write or log of them fails); NUL cannot be a BSON key.
_UNWRITABLE = re.compile("[\ud800-\udfff\x00]")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_INT64 = (-(2**63), 2**63 - 1)  # what BSON can store


class Unreadable(ValueError):
    """The bytes are not JSON this service will read; the message says why."""


def nesting_depth(raw: bytes, stop_above: int) -> int:
    """Deepest nesting of arrays and objects, counted without parsing (stops once past `stop_above`)."""
    brackets = _STRING.sub(b"", raw).translate(None, _NOT_BRACKETS)
    depth = deepest = 0
    for b in brackets:
        depth += 1 if b in _OPEN else -1
        if depth > deepest:
            deepest = depth
            if deepest > stop_above:
                break
    return deepest


def _no_constant(name: str) -> Any:
    raise Unreadable(f"{name} is not a JSON number")


def load(raw: bytes, limits: Limits) -> Any:
    """Parse `raw` as JSON no deeper than `limits.json_depth`; raise Unreadable otherwise."""
    depth = nesting_depth(raw, limits.json_depth)
    if depth > limits.json_depth:
        raise Unreadable(f"JSON nested deeper than the limit of {limits.json_depth} levels")
    try:
        text = raw.decode("utf-8")  # strictly: json.loads would also guess UTF-16 and UTF-32
    except UnicodeDecodeError as exc:
        raise Unreadable(f"not UTF-8: {exc.reason} at byte {exc.start}") from None
    try:
        return json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise Unreadable(f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except (ValueError, RecursionError) as exc:  # e.g. an integer of more than 4300 digits
        raise Unreadable(f"not JSON this service reads: {str(exc)[:200]}") from None


def problem(doc: Any, limits: Limits) -> str | None:
    """The first value of `doc` past the limits or unwritable (lone surrogate, NUL), as a sentence; None if none."""
    stack: list[tuple[str, Any]] = [("", doc)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, str):
            if len(value) > limits.text_chars:
                return f"{where or 'a string'} has {len(value)} characters, over the limit of {limits.text_chars}"
            if _UNWRITABLE.search(value):
                return f"{where or 'a string'} contains a lone surrogate or NUL character"
        elif isinstance(value, dict):
            for key, item in value.items():
                if len(key) > limits.text_chars or _UNWRITABLE.search(key):
                    return f"{where or 'the message'} has a key that is too long or contains a lone surrogate or NUL"
                stack.append((f"{where}.{key}" if where else key, item))
        elif isinstance(value, list):
            if len(value) > limits.list_items:
                return f"{where or 'a list'} has {len(value)} items, over the limit of {limits.list_items}"
            stack.extend((f"{where}[{i}]", item) for i, item in enumerate(value))
        elif isinstance(value, int) and not isinstance(value, bool) and not _INT64[0] <= value <= _INT64[1]:
            return f"{where or 'a number'} is an integer outside the 64-bit range"
    return None


def is_clean(text: Any, max_chars: int) -> bool:
    """True for a non-empty string that can be echoed as is: no control characters or surrogates, not too long."""
    return isinstance(text, str) and 0 < len(text) <= max_chars and not _CONTROL.search(text)


def printable(text: str, max_chars: int) -> str:
    """`text` safe to write anywhere (UTF-8 encodable, no control characters), cut to `max_chars`."""
    escaped = _CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text[:max_chars])
    return escaped if len(text) <= max_chars and len(escaped) <= max_chars else escaped[:max_chars] + "…"
