"""Bearer tokens as a resource server verifies them (``shared.access.tokens``): an issuer served
by ``httpx.MockTransport`` (discovery and JWKS), keys made here, tokens signed with PyJWT."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from cerniera.shared.access import tokens
from cerniera.shared.access.tokens import IssuerUnavailable, TokenRefused, TokenVerifier

ISSUER = "https://sso.example.it/realms/cerniera"
AUDIENCE = "cerniera"


class Key:
    def __init__(self, kid: str) -> None:
        self.kid = kid
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwk(self) -> dict[str, Any]:
        found: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(self.private.public_key()))
        return {**found, "kid": self.kid, "alg": "RS256", "use": "sig"}

    def sign(self, headers: dict[str, Any] | None = None, **claims: Any) -> str:
        now = int(time.time())
        body = {"iss": ISSUER, "aud": AUDIENCE, "sub": "u-1", "iat": now, "exp": now + 300}
        body |= claims
        return jwt.encode(
            {k: v for k, v in body.items() if v is not None},
            self.private,
            algorithm="RS256",
            headers={"kid": self.kid, **(headers or {})},
        )


class Issuer:
    """Discovery and keys, as an OpenID Connect provider serves them; counts the key fetches."""

    def __init__(self, *keys: Key) -> None:
        self.keys = list(keys)
        self.fetches = 0
        self.down = False
        self.named = ISSUER

    def handle(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            return httpx.Response(503)
        if request.url.path.endswith("/.well-known/openid-configuration"):
            return httpx.Response(200, json={"issuer": self.named, "jwks_uri": f"{ISSUER}/certs"})
        if request.url.path.endswith("/certs"):
            self.fetches += 1
            return httpx.Response(200, json={"keys": [k.jwk() for k in self.keys]})
        return httpx.Response(404)

    def verifier(self, leeway_s: float = 30.0) -> TokenVerifier:
        return TokenVerifier(
            ISSUER, AUDIENCE, leeway_s=leeway_s, transport=httpx.MockTransport(self.handle)
        )


class Clock:
    """``time.monotonic`` of the verifier's module, moved by hand."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(tokens, "time", fake)
    return fake


@pytest.fixture(scope="module")
def key() -> Key:
    return Key("k1")


def hs256(claims: dict[str, Any], secret: bytes, kid: str) -> str:
    def part(data: bytes) -> bytes:
        return base64.urlsafe_b64encode(data).rstrip(b"=")

    header = json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode()
    signed = part(header) + b"." + part(json.dumps(claims).encode())
    return (signed + b"." + part(hmac.new(secret, signed, hashlib.sha256).digest())).decode()


async def refusal(verifier: TokenVerifier, token: str) -> str:
    with pytest.raises(TokenRefused) as refused:
        await verifier.claims(token)
    return refused.value.code


async def test_a_token_of_the_issuer_for_us_is_accepted(key: Key) -> None:
    claims = await Issuer(key).verifier().claims(key.sign(preferred_username="op-lbianchi"))
    assert (claims["sub"], claims["preferred_username"]) == ("u-1", "op-lbianchi")


@pytest.mark.parametrize(
    ("claims", "code"),
    [
        ({"iss": "https://sso.example.it/realms/other"}, "auth.invalid_token"),
        ({"aud": "another-api"}, "auth.invalid_token"),
        ({"exp": int(time.time()) - 60}, "auth.expired_token"),  # past the 30 s leeway
        ({"exp": None}, "auth.invalid_token"),  # a token must expire
        ({"sub": None}, "auth.invalid_token"),
    ],
)
async def test_refused_claims(key: Key, claims: dict[str, Any], code: str) -> None:
    assert await refusal(Issuer(key).verifier(), key.sign(**claims)) == code


async def test_expiry_within_the_leeway_only(key: Key) -> None:
    verifier = Issuer(key).verifier(leeway_s=30)
    await verifier.claims(key.sign(exp=int(time.time()) - 10))
    assert await refusal(verifier, key.sign(exp=int(time.time()) - 40)) == "auth.expired_token"


async def test_no_signature_or_a_shared_secret_is_refused(key: Key) -> None:
    issuer = Issuer(key)
    verifier = issuer.verifier()
    genuine = jwt.decode(key.sign(), options={"verify_signature": False})
    unsigned = jwt.encode(genuine, "", algorithm="none", headers={"kid": key.kid})
    # The classic confusion: the issuer's public key (known to all) used as an HMAC secret.
    public_pem = (
        key.private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    confused = hs256(genuine, public_pem.encode(), key.kid)  # PyJWT itself refuses to make it
    assert await refusal(verifier, unsigned) == "auth.invalid_token"
    assert await refusal(verifier, confused) == "auth.invalid_token"
    assert await refusal(verifier, "not.a.token") == "auth.invalid_token"
    assert issuer.fetches == 0  # refused before asking the issuer for anything


async def test_a_key_that_is_not_the_issuers_is_refused(key: Key) -> None:
    forger = Key(key.kid)  # same key id, another key
    assert await refusal(Issuer(key).verifier(), forger.sign()) == "auth.invalid_token"


async def test_an_unknown_key_id_makes_one_refresh_at_most_every_30_s(
    key: Key, clock: Clock
) -> None:
    issuer = Issuer(key)
    verifier = issuer.verifier()
    await verifier.claims(key.sign())
    await verifier.claims(key.sign())
    assert issuer.fetches == 1  # cached

    rotated = Key("k2")
    issuer.keys = [key, rotated]
    clock.now += 1
    # Just fetched: a flood of unknown key ids does not reach the issuer.
    for _ in range(5):
        assert await refusal(verifier, rotated.sign()) == "auth.invalid_token"
    assert issuer.fetches == 1

    clock.now += tokens.REFRESH_AFTER_S
    await verifier.claims(rotated.sign())  # one refresh finds the rotated key
    assert issuer.fetches == 2
    assert await refusal(verifier, Key("k3").sign()) == "auth.invalid_token"
    assert issuer.fetches == 2


async def test_an_issuer_away_or_misnamed_is_unavailable_not_a_refusal(
    key: Key, clock: Clock
) -> None:
    issuer = Issuer(key)
    issuer.down = True
    verifier = issuer.verifier()
    with pytest.raises(IssuerUnavailable):
        await verifier.claims(key.sign())
    issuer.down = False  # tried again at the next request, without waiting 30 s
    await verifier.claims(key.sign())

    misnamed = Issuer(key)
    misnamed.named = "https://evil.example/realms/cerniera"
    with pytest.raises(IssuerUnavailable):
        await misnamed.verifier().claims(key.sign())
