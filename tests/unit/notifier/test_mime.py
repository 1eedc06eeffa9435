"""The MIME bytes the notifier sends read back as the mail it rendered, whatever the text."""

from __future__ import annotations

from email import message_from_bytes, policy

from hypothesis import given
from hypothesis import strategies as st

from notifier.adapters.outbound.smtp_sender import build_message
from notifier.core.delivery import Mail

# Text a template may produce: anything printable, accents and emoji included (no surrogates, no controls).
TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=200)


@given(subject=TEXT, text=TEXT, html=TEXT)
def test_subject_and_both_bodies_read_back_unchanged(subject: str, text: str, html: str):
    mail = Mail(to="ingrid@example.com", subject=subject, text=text, html=html, message_id="<d-1@backbone>")
    parsed = message_from_bytes(build_message(mail, "Case Backbone <cases@example.com>"), policy=policy.default)
    assert parsed.get_content_type() == "multipart/alternative"
    assert parsed["Subject"] == subject
    assert parsed["To"] == "ingrid@example.com" and parsed["Message-ID"] == "<d-1@backbone>"
    assert parsed.get_body(("plain",)).get_content() == text
    assert parsed.get_body(("html",)).get_content() == html


def test_a_case_id_in_the_body_stays_readable_in_the_raw_message():
    """Operators (and the tests) find a case's mail by grepping the raw message."""
    for text in ("Case CLAIM-0123456789ab is now yours", "Fall CLAIM-0123456789ab – übernommen"):
        mail = Mail(to="ingrid@example.com", subject="x", text=text, html=f"<p>{text}</p>", message_id="<d@b>")
        assert b"CLAIM-0123456789ab" in build_message(mail, "cases@example.com")
