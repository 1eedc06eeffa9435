"""Bearer token verification: what is accepted, every way a token is refused, the JWKS cache and principals."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from oidc_issuer import Issuer

from shared.auth import Principals
from shared.auth.jwks import JwksCache, JwksUnavailable
from shared.auth.tokens import TokenRefused, TokenVerifier
from shared.directory import Directory, Person

ISS, AUD = "https://issuer.test", "case-backbone"


@pytest.fixture(scope="module")
def issuer(tmp_path_factory) -> Issuer:
    made = Issuer(tmp_path_factory.mktemp("oidc"))
    made.url = ISS  # not served: the verifier gets the key set from memory
    return made


def cache_of(*issuers: Issuer, fetches: list | None = None, **kw) -> JwksCache:
    async def fetch():
        if fetches is not None:
            fetches.append(1)
        return {"keys": [i.public_jwk for i in issuers]}

    return JwksCache(fetch, **kw)


def verifier(issuer: Issuer, iss: str = ISS, aud: str = AUD) -> TokenVerifier:
    return TokenVerifier(cache_of(issuer), iss, aud)


async def test_a_good_token_gives_its_subject(issuer):
    token = await verifier(issuer).verify(issuer.mint("mary"))
    assert token.subject == "mary" and token.claims["iss"] == ISS


@pytest.mark.parametrize(("claims", "why"), [
    ({"exp": int(time.time()) - 600}, "expired"),
    ({"iss": "https://other.test"}, "another issuer"),
    ({"aud": "someone-else"}, "another audience"),
    ({"sub": ""}, "subject"), ({"sub": "bad\nname"}, "subject"), ({"nbf": int(time.time()) + 3600}, "invalid")])
async def test_claims_that_do_not_fit_are_refused(issuer, claims, why):
    with pytest.raises(TokenRefused, match=why):
        await verifier(issuer).verify(issuer.mint("mary", **claims))


async def test_a_token_without_exp_is_refused(issuer):
    body = {"iss": ISS, "aud": AUD, "sub": "mary"}
    token = jwt.encode(body, issuer.key, algorithm="ES256", headers={"kid": issuer.kid})
    with pytest.raises(TokenRefused, match="exp"):
        await verifier(issuer).verify(token)


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


async def test_alg_none_and_hmac_with_the_public_key_are_refused(issuer):
    claims = {"iss": ISS, "aud": AUD, "sub": "mary", "exp": int(time.time()) + 600}
    unsigned = f"{_b64({'alg': 'none', 'kid': issuer.kid})}.{_b64(claims)}."
    with pytest.raises(TokenRefused, match="algorithm"):
        await verifier(issuer).verify(unsigned)
    # The classic confusion: HS256 "signed" with the public key, which anyone can fetch.
    signing_input = f"{_b64({'alg': 'HS256', 'kid': issuer.kid})}.{_b64(claims)}"
    mac = hmac.new(json.dumps(issuer.public_jwk).encode(), signing_input.encode(), hashlib.sha256).digest()
    confused = f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
    with pytest.raises(TokenRefused, match="algorithm"):
        await verifier(issuer).verify(confused)


async def test_a_tampered_token_is_refused(issuer):
    header, body, signature = issuer.mint("mary").split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    forged = f"{header}.{_b64({**claims, 'sub': 'peter'})}.{signature}"
    with pytest.raises(TokenRefused, match="invalid token"):
        await verifier(issuer).verify(forged)


async def test_a_token_from_another_key_is_refused(issuer, tmp_path: Path):
    stranger = Issuer(tmp_path)  # its own key pair
    stranger.url = ISS
    with pytest.raises(TokenRefused, match="does not publish"):
        await verifier(issuer).verify(stranger.mint("mary"))
    # The same kid, another key: the signature does not verify.
    impostor = jwt.encode({"iss": ISS, "aud": AUD, "sub": "mary", "exp": int(time.time()) + 600}, stranger.key,
                          algorithm="ES256", headers={"kid": issuer.kid})
    with pytest.raises(TokenRefused, match="invalid token"):
        await verifier(issuer).verify(impostor)


async def test_an_rs256_header_on_an_ec_key_is_refused(issuer):
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode({"iss": ISS, "aud": AUD, "sub": "mary", "exp": int(time.time()) + 600}, rsa_key,
                       algorithm="RS256", headers={"kid": issuer.kid})
    with pytest.raises(TokenRefused, match="does not match"):
        await verifier(issuer).verify(token)


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "é.é.é", "x" * 9000, "eyJhbGciOiJFUzI1NiJ9.e30.",
                                     f"{_b64({'alg': 'ES256'})}.e30.sig", f"{_b64({'alg': 'ES256', 'kid': 7})}.e30.sig"])
async def test_garbage_is_refused_not_an_error(issuer, garbage):
    with pytest.raises(TokenRefused):
        await verifier(issuer).verify(garbage)


async def test_an_unknown_kid_refetches_the_key_set_once_per_interval(issuer, tmp_path: Path):
    rotated = Issuer(tmp_path)
    rotated.url = ISS
    published = [issuer]
    fetches: list = []
    now = [0.0]

    async def fetch():
        fetches.append(1)
        return {"keys": [i.public_jwk for i in published]}

    cache = JwksCache(fetch, min_refresh_seconds=30, clock=lambda: now[0])
    check = TokenVerifier(cache, ISS, AUD)
    await check.verify(issuer.mint("mary"))
    await check.verify(issuer.mint("mary"))
    assert len(fetches) == 1  # cached
    published.append(rotated)  # the issuer rotates; its new key is unknown here yet
    with pytest.raises(TokenRefused):
        await check.verify(rotated.mint("mary"))  # within the interval: no refetch, so made-up kids cost nothing
    assert len(fetches) == 1
    now[0] = 31.0
    assert (await check.verify(rotated.mint("mary"))).subject == "mary"
    assert len(fetches) == 2


async def test_an_unreachable_key_set_is_reported_as_unavailable(issuer):
    async def down():
        raise OSError("connection refused")

    with pytest.raises(JwksUnavailable):
        await TokenVerifier(JwksCache(down), ISS, AUD).verify(issuer.mint("mary"))


def test_principals_come_from_the_directory_never_from_the_token():
    people = Directory(people=[Person(id="mary", name="M", email="m@x", roles=["sales_rep"]),
                               Person(id="cust.ola", name="O", email="o@x", roles=["customer"], account_id="ACC-1")])
    principals = Principals(lambda: people)
    mary, ola = principals.resolve("mary"), principals.resolve("cust.ola")
    assert mary.is_staff and mary.roles == {"sales_rep"} and mary.may_see_account("ACC-9")
    assert not ola.is_staff and ola.account_id == "ACC-1"
    assert ola.may_see_account("ACC-1") and not ola.may_see_account("ACC-2") and not ola.may_see_account(None)
    assert principals.resolve("sales_rep") is None and principals.resolve("nobody") is None
