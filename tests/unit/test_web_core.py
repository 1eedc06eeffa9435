"""The web service's pure core: safe redirects, CSRF tokens, the pipeline figures."""

from __future__ import annotations

import pytest

from web.core import Csrf, pipeline, safe_next
from web.core.pipeline import chance_of


@pytest.mark.parametrize("target, want", [
    ("/cases/C-1", "/cases/C-1"), ("/my/cases?cursor=x", "/my/cases?cursor=x"), ("", "/my/cases"),
    (None, "/my/cases"), ("//evil.example/", "/my/cases"), ("/\\evil.example", "/my/cases"),
    ("https://evil.example/", "/my/cases"), ("cases", "/my/cases"), ("/x\r\nSet-Cookie: a=b", "/my/cases")])
def test_only_local_paths_are_followed_after_sign_in(target, want):
    assert safe_next(target) == want


def test_a_csrf_token_is_good_only_with_its_own_cookie_and_secret():
    csrf = Csrf("one")
    token = csrf.issue("session-a")
    assert csrf.check("session-a", token)
    assert not csrf.check("session-b", token)
    assert not Csrf("two").check("session-a", token)
    assert not csrf.check(None, token) and not csrf.check("session-a", None) and not csrf.check("session-a", "x")


@pytest.mark.parametrize("value, want", [(50, 0.5), (25, 0.25), (1, 0.01), (100, 1.0), (250, 1.0), (-5, 0.0),
                                         (None, 0.0), ("50", 0.0), (True, 0.0)])
def test_the_chance_is_the_probability_percentage_as_a_fraction(value, want):
    assert chance_of(value) == want


def test_pipeline_rows_per_gbu_stage_and_currency_never_adding_currencies():
    nok = {"currency": "NOK"}
    cases = [{"gbu": "lighting", "status": "open", "fields": {"expected_revenue": 1000, "probability": 50, **nok}},
             {"gbu": "lighting", "status": "open", "fields": {"expected_revenue": 500, **nok}},
             {"gbu": "lighting", "status": "open", "fields": {"expected_revenue": 70, "currency": "EUR"}},
             {"gbu": "lighting", "status": "available", "fields": nok},
             {"gbu": "coatings", "status": "open", "fields": {"expected_revenue": 10, "probability": 50}}]
    rows = [(r.gbu, r.stage, r.currency, r.count, r.expected_revenue, r.weighted_revenue, r.without_figures)
            for r in pipeline(cases)]
    assert rows == [("coatings", "open", "—", 1, 10.0, 5.0, 0), ("lighting", "available", "NOK", 1, 0.0, 0.0, 1),
                    ("lighting", "open", "EUR", 1, 70.0, 0.0, 0), ("lighting", "open", "NOK", 2, 1500.0, 500.0, 0)]
