"""The embedded OpenID Connect provider of ``cerniera up``, ``cerniera demo`` and the tests.

The protocol is authlib's (authorization server, authorization-code grant with PKCE S256,
client-credentials grant, RFC 9068 JWT access tokens, OpenID Connect ID tokens); this module
only gives it the directory, a signing key, the discovery document and a log-in form in
Italian. For production use Keycloak or the region's identity provider (``deploy/keycloak``).
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from html import escape
from typing import Any
from urllib.parse import urlsplit

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin, InvalidRequestError, grants
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from flask import Flask, Response, jsonify, request
from joserfc.jwk import KeySet, RSAKey
from werkzeug.serving import make_server

from cerniera.cli.identity.directory import DEMO_PASSWORD, PUBLIC_CLIENTS, Account, Directory

SCOPES = ("openid", "profile")
CODE_TTL_S = 120


@dataclass(frozen=True, slots=True)
class _User:
    account: Account

    def get_user_id(self) -> str:
        return self.account.username


class _Client(ClientMixin):  # type: ignore[misc]
    """A public client of people (PKCE, loopback redirects) or a system's confidential one."""

    def __init__(self, client_id: str, system: Account | None, secret: str) -> None:
        self.client_id = client_id
        self.system = system
        self._secret = secret

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        return None

    def get_allowed_scope(self, scope: str | None) -> str:
        return " ".join(s for s in (scope or "").split() if s in SCOPES)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        # People's clients run on the user's machine: loopback redirects only (RFC 8252).
        parts = urlsplit(redirect_uri)
        return (
            self.system is None
            and parts.scheme == "http"
            and parts.hostname
            in (
                "127.0.0.1",
                "localhost",
            )
        )

    def check_client_secret(self, client_secret: str) -> bool:
        return self.system is not None and hmac.compare_digest(client_secret, self._secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.system is None:
            return method == "none"
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return self.system is None and response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        wanted = "authorization_code" if self.system is None else "client_credentials"
        return grant_type == wanted


@dataclass
class _Code:
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    username: str
    code_challenge: str | None
    code_challenge_method: str | None
    nonce: str | None
    auth_time: int
    expires_at: float = field(default_factory=lambda: time.time() + CODE_TTL_S)

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> None:
        return None

    def get_amr(self) -> None:
        return None


class _S256Required(CodeChallenge):  # type: ignore[misc]
    """PKCE on every authorization request, S256 only (authlib checks the verifier only at
    the token endpoint, and would accept ``plain``)."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]  # noqa: RUF012 - authlib's own attribute

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge") or data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("PKCE required: code_challenge with method S256.")
        super().validate_code_challenge(grant, redirect_uri)


class IdentityProvider:
    """The directory, the keys and the authlib server, as a Flask app (``self.app``)."""

    def __init__(
        self,
        directory: Directory,
        issuer: str,
        *,
        audience: str = "cerniera",
        token_lifetime_s: int = 3600,
        open_registration: bool = False,
    ) -> None:
        self.directory = directory
        self.issuer = issuer.rstrip("/")
        self.audience = audience
        self.open_registration = open_registration
        self.keys = KeySet(
            [
                RSAKey.generate_key(
                    2048, parameters={"kid": secrets.token_hex(8), "alg": "RS256", "use": "sig"}
                )
            ]
        )
        self._codes: dict[str, _Code] = {}
        self._lock = threading.Lock()
        self.app = Flask("cerniera-idp")
        self.app.config["OAUTH2_TOKEN_EXPIRES_IN"] = {
            "authorization_code": token_lifetime_s,
            "client_credentials": token_lifetime_s,
        }
        self.server = AuthorizationServer(
            self.app, query_client=self._client, save_token=_keep_nothing
        )
        self._register_grants(token_lifetime_s)
        self._routes()

    # --- clients, codes -------------------------------------------------------------------

    def _client(self, client_id: str) -> _Client | None:
        if client_id in PUBLIC_CLIENTS:
            return _Client(client_id, None, "")
        system = self.directory.systems.get(client_id)
        return _Client(client_id, system, DEMO_PASSWORD) if system else None

    def _register_grants(self, lifetime: int) -> None:
        provider = self

        class CodeGrant(grants.AuthorizationCodeGrant):  # type: ignore[misc]
            TOKEN_ENDPOINT_AUTH_METHODS = ["none"]  # noqa: RUF012 - authlib's own attribute

            def save_authorization_code(self, code: str, req: Any) -> None:
                data = req.payload.data
                with provider._lock:
                    provider._codes[code] = _Code(
                        code=code,
                        client_id=req.payload.client_id,
                        redirect_uri=req.payload.redirect_uri,
                        scope=req.scope or "",
                        username=req.user.get_user_id(),
                        code_challenge=data.get("code_challenge"),
                        code_challenge_method=data.get("code_challenge_method"),
                        nonce=data.get("nonce"),
                        auth_time=int(time.time()),
                    )

            def query_authorization_code(self, code: str, client: _Client) -> _Code | None:
                found = provider._codes.get(code)
                if found and found.client_id == client.client_id and found.expires_at > time.time():
                    return found
                return None

            def delete_authorization_code(self, authorization_code: _Code) -> None:
                with provider._lock:
                    provider._codes.pop(authorization_code.code, None)

            def authenticate_user(self, authorization_code: _Code) -> _User | None:
                account = provider.directory.people.get(authorization_code.username)
                return _User(account) if account else None

        class IdToken(OpenIDCode):  # type: ignore[misc]
            def resolve_client_private_key(self, client: _Client) -> KeySet:
                return provider.keys

            def get_client_claims(self, client: _Client) -> dict[str, Any]:
                return {"iss": provider.issuer, "exp": int(time.time()) + lifetime}

            def exists_nonce(self, nonce: str, req: Any) -> bool:
                return False

            def generate_user_info(self, user: _User, scope: str) -> UserInfo:
                return UserInfo(sub=user.get_user_id(), **user.account.claims())

        class AccessTokens(JWTBearerTokenGenerator):  # type: ignore[misc]
            def get_jwks(self) -> KeySet:
                return provider.keys

            def get_audiences(self, client: _Client, user: _User | None, scope: str) -> str:
                return provider.audience

            def get_extra_claims(
                self, client: _Client, grant_type: str, user: _User | None, scope: str
            ) -> dict[str, Any]:
                account = user.account if user else client.system
                return account.claims() if account else {}

        self.server.register_grant(CodeGrant, [_S256Required(required=True), IdToken()])
        self.server.register_grant(grants.ClientCredentialsGrant)
        self.server.register_token_generator(
            "default",
            AccessTokens(issuer=self.issuer, expires_generator=lambda client, grant: lifetime),
        )

    # --- routes ---------------------------------------------------------------------------

    def _routes(self) -> None:
        app, server = self.app, self.server

        @app.get("/.well-known/openid-configuration")
        def discovery() -> Response:
            return jsonify(self.discovery())

        @app.get("/jwks")
        def jwks() -> Response:
            return jsonify(self.keys.as_dict(private=False))

        @app.route("/authorize", methods=["GET", "POST"])
        def authorize() -> Any:
            try:
                grant = server.get_consent_grant(end_user=None)
            except Exception as error:  # authlib's OAuth2Error: shown, never a redirect
                return Response(f"Richiesta non valida: {escape(str(error))}", status=400)
            if request.method == "GET":
                return Response(self._login_form(), mimetype="text/html")
            account = self.directory.people.get(request.form.get("username", ""))
            password = request.form.get("password", "")
            if account is None or not hmac.compare_digest(password, DEMO_PASSWORD):
                return Response(
                    self._login_form("Utente o password errati."), status=401, mimetype="text/html"
                )
            return server.create_authorization_response(grant_user=_User(account), grant=grant)

        @app.post("/token")
        def token() -> Any:
            return server.create_token_response()

        @app.put("/accounts/<username>")
        def register(username: str) -> Any:
            """Tests only (``open_registration``): a person or system with these claims."""
            if not self.open_registration:
                return Response(status=404)
            body = request.get_json(force=True)
            account = Account(
                username=username,
                name=str(body.get("name", username)),
                roles=tuple(body.get("roles", ())),
                ambito_id=body.get("ambito_id"),
                provider_id=body.get("provider_id"),
                hospital_id=body.get("hospital_id"),
            )
            if body.get("system"):
                self.directory.add_system(account)
            else:
                self.directory.add_person(account)
            return Response(status=204)

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "client_credentials"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": list(SCOPES),
            "token_endpoint_auth_methods_supported": [
                "none",
                "client_secret_basic",
                "client_secret_post",
            ],
            "code_challenge_methods_supported": ["S256"],
        }

    def _login_form(self, error: str = "") -> str:
        people = "".join(
            f'<option value="{escape(a.username)}">{escape(a.username)} — {escape(a.name)}</option>'
            for a in self.directory.people.values()
        )
        warning = f'<p role="alert">{escape(error)}</p>' if error else ""
        return (
            '<!doctype html><html lang="it"><head><meta charset="utf-8">'
            "<title>Cerniera — accesso</title></head><body><main>"
            "<h1>Cerniera — accesso (provider di identità di sviluppo)</h1>"
            f'{warning}<form method="post"><label for="username">Utente</label>'
            f'<select id="username" name="username">{people}</select>'
            '<label for="password">Password</label>'
            '<input id="password" name="password" type="password" autocomplete="current-password">'
            '<button type="submit">Accedi</button></form></main></body></html>'
        )


def _keep_nothing(token: dict[str, Any], req: Any) -> None:
    """Access tokens are self-contained JWTs: nothing to store (no introspection here)."""


@dataclass(frozen=True, slots=True)
class RunningProvider:
    url: str
    provider: IdentityProvider


@contextlib.contextmanager
def serving(
    directory: Directory,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    audience: str = "cerniera",
    token_lifetime_s: int = 3600,
    open_registration: bool = False,
) -> Iterator[RunningProvider]:
    """The provider on ``host:port`` (0: any free port) in a thread of this process, which
    stops with it."""
    # Werkzeug logs every request at INFO: the services' logs are the ones worth reading.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server(host, port, Flask("placeholder"), threaded=True)
    url = f"http://{host}:{server.server_port}"
    provider = IdentityProvider(
        directory,
        url,
        audience=audience,
        token_lifetime_s=token_lifetime_s,
        open_registration=open_registration,
    )
    server.app = provider.app
    thread = threading.Thread(target=server.serve_forever, name="cerniera-idp", daemon=True)
    thread.start()
    try:
        yield RunningProvider(url, provider)
    finally:
        server.shutdown()
        thread.join(timeout=5)
