"""Link tokens and CSRF tokens: bound, expiring, tamper-evident, and never an error on garbage."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from approval.core import Csrf, LinkClaim, Linker, LinkRefused
from approval.core.tokens import EXPIRED, FORGED, MALFORMED
from approval.settings import ApprovalSettings, link_secret_problem
from shared.links import approval_link, claims_of, well_formed

SECRET = "unit-test-secret-that-is-32-bytes-or-more"
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


CLOCK = Clock()
LINKER = Linker(SECRET, "https://cases.example.com/", ttl=timedelta(days=14), clock=CLOCK)
TOKEN = LINKER.token("CASE-1", "3f6c1b2a-1111-2222-3333-444455556666", "mary")


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_a_token_is_bound_to_case_step_and_person_and_url_safe():
    claim = LINKER.check(TOKEN)
    assert claim == LinkClaim("CASE-1", "3f6c1b2a-1111-2222-3333-444455556666", "mary",
                              int((NOW + timedelta(days=14)).timestamp()))
    assert well_formed(TOKEN) and len(TOKEN) < 160
    assert LINKER.link(TOKEN) == f"https://cases.example.com/approvals/{TOKEN}"


def test_changing_any_bound_field_breaks_the_signature():
    body, _, signature = TOKEN.partition(".")
    for changed in (["CASE-2", "3f6c1b2a-1111-2222-3333-444455556666", "mary", 99999999999],
                    ["CASE-1", "another-approval", "mary", 1797257985],
                    ["CASE-1", "3f6c1b2a-1111-2222-3333-444455556666", "john", 1797257985]):
        forged = b64(json.dumps(changed, separators=(",", ":")).encode()) + "." + signature
        assert LINKER.check(forged) == FORGED
    assert LINKER.check(body + "." + ("A" if signature[0] != "A" else "B") + signature[1:]) == FORGED


def test_another_deployments_secret_is_refused():
    theirs = Linker("another-secret-which-is-also-32-bytes-long", "https://x", clock=CLOCK)
    assert LINKER.check(theirs.token("CASE-1", "a", "mary")) == FORGED
    assert theirs.verify(TOKEN) is None


def test_a_token_expires_after_the_ttl():
    CLOCK.now = NOW + timedelta(days=14) - timedelta(seconds=1)
    try:
        assert isinstance(LINKER.check(TOKEN), LinkClaim)
        CLOCK.now = NOW + timedelta(days=14)
        assert LINKER.check(TOKEN) == EXPIRED and LINKER.verify(TOKEN) is None
    finally:
        CLOCK.now = NOW


def test_malformed_tokens_are_refused_not_errors():
    signature = TOKEN.partition(".")[2]
    for bad in ("", ".", "é" * 10, TOKEN + "é", TOKEN.replace(".", "é"), "abc", TOKEN + ".x", TOKEN[:-1],
                "x" * 481 + "." + signature, b64(b"not json") + "." + signature,
                b64(b"\xff\xfe") + "." + signature, b64(b"[1,2,3,4]") + "." + signature,
                b64(b'["a","b","c",true]') + "." + signature, b64(b'["a","b","c"]') + "." + signature,
                b64(b'["","b","c",1]') + "." + signature, b64(b'{"a":1}') + "." + signature,
                b64(b"[" * 300) + "." + signature, None, 42, b"bytes"):
        assert LINKER.check(bad) == MALFORMED, bad
        assert LINKER.verify(bad) is None and claims_of(bad) is None


@settings(max_examples=400, deadline=None)
@given(st.text())
def test_verify_never_raises_on_any_text(text):
    result = LINKER.check(text)
    assert isinstance(result, LinkRefused)  # no text is a genuine token by chance
    claims_of(text)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=480),
       st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", min_size=24, max_size=24))
def test_verify_never_raises_on_well_shaped_garbage(body, signature):
    assert LINKER.check(f"{body}.{signature}") in (MALFORMED, FORGED)


def test_a_link_is_only_built_from_a_well_formed_token():
    assert approval_link("https://a.example/", TOKEN) == f"https://a.example/approvals/{TOKEN}"
    for bad in ("../../evil", "x.y@evil.example", "https://evil.example/#"):
        try:
            approval_link("https://a.example", bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} made a link")


def test_csrf_token_is_bound_to_the_link_and_the_cookie_and_expires():
    csrf = Csrf(SECRET, max_age=timedelta(hours=1), clock=CLOCK)
    form, nonce = csrf.issue(TOKEN)
    assert csrf.check(TOKEN, form, nonce)
    other_form, other_nonce = csrf.issue(TOKEN)
    assert not csrf.check(TOKEN, form, other_nonce)  # another render's cookie
    assert not csrf.check(TOKEN + "x", form, nonce)  # another link
    assert not csrf.check(TOKEN, form, None) and not csrf.check(TOKEN, None, nonce)
    assert not Csrf("another-secret-which-is-also-32-bytes-long", clock=CLOCK).check(TOKEN, form, nonce)
    tampered = form[:-1] + ("A" if form[-1] != "A" else "B")
    assert not csrf.check(TOKEN, tampered, nonce)
    for garbage in ("", "é", "a.b.c", form + "é", "x" * 5000):
        assert not csrf.check(TOKEN, garbage, nonce) and not csrf.check(TOKEN, form, garbage)
    CLOCK.now = NOW + timedelta(hours=1, seconds=1)
    try:
        assert not csrf.check(TOKEN, form, nonce)
    finally:
        CLOCK.now = NOW


@settings(max_examples=200, deadline=None)
@given(st.text(), st.text())
def test_csrf_check_never_raises(form, cookie):
    assert not Csrf(SECRET, clock=CLOCK).check(TOKEN, form, cookie)


def test_default_empty_or_short_secret_is_refused_outside_dev_mode():
    for secret in ("change-me", "", "   ", "short-secret", "PLACEHOLDER-replace-me-with-a-random-secret",
                   "é" * 15):
        assert link_secret_problem(ApprovalSettings(link_secret=secret, dev_mode=False)), secret
        assert link_secret_problem(ApprovalSettings(link_secret=secret, dev_mode=True)) is None
    assert link_secret_problem(ApprovalSettings(link_secret="k" * 32, dev_mode=False)) is None
