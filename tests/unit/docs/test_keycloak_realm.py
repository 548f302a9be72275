"""The Keycloak realm of deploy/ gives the tokens the services read (docs/security.md), and
the deployment files point the services and the desk at it.

Keycloak itself does not run here: these checks hold the export to what the services expect
(roles, claims, audience) and to the import rules that would otherwise fail silently; and the
desk's settings in compose and Kubernetes to the realm's redirect URI and to the services it
passes the person's token to.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]  # no types-PyYAML in the workspace

from cerniera.cli.up import DESK_USES
from cerniera.desk.service import HTTP_PORT as DESK_PORT
from cerniera.shared.access.roles import Role
from cerniera.shared.access.tokens import OidcSettings

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
REALM: dict[str, Any] = json.loads((DEPLOY / "keycloak" / "cerniera-realm.json").read_text())
ISSUER = "http://keycloak:8080/realms/cerniera"


def client(client_id: str) -> dict[str, Any]:
    (found,) = [c for c in REALM["clients"] if c["clientId"] == client_id]
    assert isinstance(found, dict)
    return found


def access_token_mappers(client_id: str) -> dict[str, dict[str, Any]]:
    """The client's mappers that write into the access token, by claim (or audience)."""
    found = {}
    for mapper in client(client_id)["protocolMappers"]:
        config = mapper["config"]
        assert config["access.token.claim"] == "true", mapper["name"]
        found[config.get("claim.name") or config["included.custom.audience"]] = mapper
    return found


def user(username: str) -> dict[str, Any]:
    (found,) = [u for u in REALM["users"] if u["username"] == username]
    assert isinstance(found, dict)
    return found


def test_the_realm_defines_exactly_the_roles_the_services_know() -> None:
    assert REALM["realm"] == "cerniera"
    assert {r["name"] for r in REALM["roles"]["realm"]} == {r.value for r in Role}
    defined = {r["name"] for r in REALM["roles"]["realm"]}
    for person in REALM["users"]:
        assert set(person["realmRoles"]) <= defined, person["username"]


def test_keycloak_keeps_its_built_in_client_scopes() -> None:
    """A realm file that declares ``clientScopes`` gets none of the built-in ones, ``basic``
    (the ``sub`` claim the services require) among them: the mappers live on the clients."""
    assert "clientScopes" not in REALM
    for c in REALM["clients"]:
        assert "basic" in c["defaultClientScopes"], c["clientId"]


@pytest.mark.parametrize(
    "client_id", ["cerniera-desk", "hospital-asst-vimercate", "provider-coop-il-melograno"]
)
def test_every_client_puts_roles_and_the_audience_in_the_access_token(client_id: str) -> None:
    mappers = access_token_mappers(client_id)
    roles = mappers["roles"]
    assert roles["protocolMapper"] == "oidc-usermodel-realm-role-mapper"
    assert roles["config"]["multivalued"] == "true"
    audience = mappers[OidcSettings().audience]
    assert audience["protocolMapper"] == "oidc-audience-mapper"


def test_the_desk_is_a_public_pkce_client_with_the_people_claims() -> None:
    desk = client("cerniera-desk")
    assert desk["publicClient"] is True
    assert desk["attributes"]["pkce.code.challenge.method"] == "S256"
    assert desk["standardFlowEnabled"] is True
    assert not desk["implicitFlowEnabled"]
    assert not desk["directAccessGrantsEnabled"]
    # The desk's callback alone: no wildcard, no other application's address.
    assert desk["redirectUris"] == [f"http://localhost:{DESK_PORT}/auth/callback"]
    assert desk["attributes"]["post.logout.redirect.uris"] == f"http://localhost:{DESK_PORT}/*"
    mappers = access_token_mappers("cerniera-desk")
    for claim in ("ambito_id", "provider_id", "hospital_id"):
        assert mappers[claim]["protocolMapper"] == "oidc-usermodel-attribute-mapper"
        assert mappers[claim]["config"]["user.attribute"] == claim
    assert mappers["ambito_id"]["config"]["multivalued"] == "true"


def test_user_attributes_are_declared_and_only_administrators_edit_them() -> None:
    """Keycloak 24+ drops attributes its user profile does not declare (and a person able to
    edit their own ``ambito_id`` could choose their district)."""
    (provider,) = REALM["components"]["org.keycloak.userprofile.UserProfileProvider"]
    profile = json.loads(provider["config"]["kc.user.profile.config"][0])
    assert "unmanagedAttributePolicy" not in profile
    declared = {a["name"]: a for a in profile["attributes"]}
    for name in ("ambito_id", "provider_id", "hospital_id"):
        assert declared[name]["permissions"]["edit"] == ["admin"]
    for person in REALM["users"]:
        assert set(person.get("attributes", {})) <= set(declared), person["username"]


@pytest.mark.parametrize(
    ("client_id", "role", "claim", "value"),
    [
        ("hospital-asst-vimercate", "hospital", "hospital_id", "asst-vimercate"),
        ("provider-coop-il-melograno", "provider", "provider_id", "coop-il-melograno"),
    ],
)
def test_machine_clients_use_client_credentials_for_one_hospital_or_provider(
    client_id: str, role: str, claim: str, value: str
) -> None:
    c = client(client_id)
    assert c["publicClient"] is False
    assert c["serviceAccountsEnabled"] is True
    assert not c["standardFlowEnabled"]
    assert not c["directAccessGrantsEnabled"]
    mapper = access_token_mappers(client_id)[claim]
    assert mapper["protocolMapper"] == "oidc-hardcoded-claim-mapper"
    assert mapper["config"]["claim.value"] == value
    account = user(f"service-account-{client_id}")
    assert account["serviceAccountClientId"] == client_id
    assert account["realmRoles"] == [role]


@pytest.mark.parametrize(
    ("username", "role", "attributes"),
    [
        ("equipe-desio", "equipe", {"ambito_id": ["desio"]}),
        ("admin-desio", "district_admin", {"ambito_id": ["desio"]}),
        ("revisore", "auditor", {}),
    ],
)
def test_demo_people(username: str, role: str, attributes: dict[str, list[str]]) -> None:
    person = user(username)
    assert person["realmRoles"] == [role]
    assert person["attributes"] == attributes
    (password,) = person["credentials"]
    assert password["temporary"] is False


def test_the_services_are_told_this_issuer_and_audience() -> None:
    compose = (DEPLOY / "compose.yaml").read_text()
    assert f"OIDC_ISSUER: {ISSUER}" in compose
    assert f"OIDC_AUDIENCE: {OidcSettings().audience}" in compose
    assert "/keycloak/cerniera-realm.json:/opt/keycloak/data/import/" in compose
    env = (DEPLOY / "kubernetes" / "cerniera.env").read_text().splitlines()
    assert any(line.startswith("OIDC_ISSUER=https://") for line in env)
    assert f"OIDC_AUDIENCE={OidcSettings().audience}" in env


def test_compose_s_desk_logs_in_at_the_realm_s_redirect_and_calls_the_services() -> None:
    services = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]
    desk = services["desk"]
    env = desk["environment"]
    assert desk["command"] == ["cerniera-desk", "run"]
    assert desk["ports"] == [f"127.0.0.1:{DESK_PORT}:{DESK_PORT}"]
    assert f"{env['DESK_PUBLIC_URL']}/auth/callback" in client("cerniera-desk")["redirectUris"]
    assert env["OIDC_ISSUER"] == ISSUER
    assert env["KAFKA_SASL_USERNAME"] == "cerniera-desk"
    for name in DESK_USES:
        (published,) = services[name]["ports"]
        port = published.rsplit(":", 1)[1]
        assert env[f"DESK_{name.upper()}_URL"] == f"http://{name}:{port}", name
    # A default for development only, and one production must replace.
    assert env["DESK_SESSION_SECRET"].startswith("${DESK_SESSION_SECRET:-dev-only-")


def test_kubernetes_desk_calls_the_services_in_the_cluster_behind_https() -> None:
    kubernetes = DEPLOY / "kubernetes"
    assert (
        "desk-deployment.yaml"
        in yaml.safe_load((kubernetes / "kustomization.yaml").read_text())["resources"]
    )
    settings = dict(
        line.split("=", 1)
        for line in (kubernetes / "cerniera.env").read_text().splitlines()
        if line and not line.startswith("#")
    )
    for name in DESK_USES:
        (service,) = [
            d
            for d in yaml.safe_load_all((kubernetes / f"{name}-deployment.yaml").read_text())
            if d["kind"] == "Service" and d["metadata"]["name"] == name
        ]
        (port,) = service["spec"]["ports"]
        assert settings[f"DESK_{name.upper()}_URL"] == f"http://{name}.cerniera.svc:{port['port']}"
    assert settings["DESK_PUBLIC_URL"].startswith("https://")
    assert settings["DESK_SECURE_COOKIES"] == "true"

    manifests = {
        d["kind"]: d for d in yaml.safe_load_all((kubernetes / "desk-deployment.yaml").read_text())
    }
    pod = manifests["Deployment"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["command"] == ["cerniera-desk", "run"]
    assert container["ports"][0]["containerPort"] == DESK_PORT
    assert manifests["Service"]["spec"]["ports"][0]["port"] == DESK_PORT
    secret_name = container["envFrom"][1]["secretRef"]["name"]
    (secret,) = [
        d
        for d in yaml.safe_load_all((kubernetes / "secret-example.yaml").read_text())
        if d["metadata"]["name"] == secret_name
    ]
    # Shared by every replica and every restart: a session outlives the pod that began it.
    assert {"DESK_SESSION_SECRET", "KAFKA_SASL_USERNAME"} <= set(secret["stringData"])
    assert secret["stringData"]["KAFKA_SASL_USERNAME"] == "cerniera-desk"
