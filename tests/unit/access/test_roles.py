"""Who may do what (``shared.access.roles``): principals from tokens' claims, ours and Keycloak's,
and the scope checks every service refuses with."""

from __future__ import annotations

from typing import Any

import pytest

from cerniera.shared.access import GRANTS, Action, Principal, Role, allowed_roles
from cerniera.shared.refusals import Forbidden


def principal(**claims: Any) -> Principal:
    return Principal.from_claims({"sub": "3f2a-uuid", **claims})


def test_our_claims_make_the_principal() -> None:
    who = principal(
        preferred_username="op-lbianchi", roles=["equipe", "district_admin"], ambito_id="desio"
    )
    assert who.actor == "op-lbianchi"
    assert who.subject == "3f2a-uuid"
    assert who.roles == {Role.EQUIPE, Role.DISTRICT_ADMIN}
    assert who.ambiti == {"desio"}
    assert (who.provider_id, who.hospital_id) == (None, None)


def test_keycloaks_realm_roles_are_read_and_unknown_roles_ignored() -> None:
    who = principal(
        realm_access={"roles": ["offline_access", "uma_authorization", "equipe"]},
        ambito_id=["desio", "magentino"],
    )
    assert who.roles == {Role.EQUIPE}
    assert who.ambiti == {"desio", "magentino"}
    assert who.actor == "3f2a-uuid"  # no preferred_username: the subject


def test_the_roles_claim_wins_over_realm_access() -> None:
    who = principal(roles=["auditor"], realm_access={"roles": ["equipe"]})
    assert who.roles == {Role.AUDITOR}


@pytest.mark.parametrize(
    "claims",
    [
        {},
        {"roles": "not-a-role"},
        {"roles": 7},
        {"realm_access": None},
        {"realm_access": {"roles": [None, 3]}},
    ],
)
def test_no_role_no_action(claims: dict[str, Any]) -> None:
    who = principal(**claims)
    assert who.roles == frozenset()
    assert not any(who.may(action) for action in Action)


def test_a_provider_or_hospital_claim_is_one_value_or_none() -> None:
    assert principal(provider_id="coop-a").provider_id == "coop-a"
    assert principal(provider_id=["coop-a", "coop-b"]).provider_id is None  # ambiguous
    assert principal(hospital_id=["asst-vimercate"]).hospital_id == "asst-vimercate"
    assert principal(ambito_id=12).ambiti == frozenset()


def test_every_action_has_its_roles_and_the_auditor_only_reads() -> None:
    assert set(GRANTS) == set(Action)
    auditor = principal(roles=["auditor"])
    for action in Action:
        assert auditor.may(action) is action.reads
        assert (Role.AUDITOR in allowed_roles(action)) is action.reads
    assert auditor.may(Action.AUDIT_READ)
    assert not principal(roles=["equipe"]).may(Action.AUDIT_READ)


def test_the_equipe_works_on_cases_not_on_budgets_or_discharges() -> None:
    equipe = principal(roles=["equipe"], ambito_id="desio")
    for action in (
        Action.CASE_READ,
        Action.CASE_ASSESS,
        Action.CASE_OVERRIDE,
        Action.CASE_TAKE_CHARGE,
        Action.BRASS_SCORE,
        Action.CHECK_RECORD,
        Action.CHECKS_READ,
        Action.CASE_CLOSE,
    ):
        equipe.require(action)
    for action in (Action.BUDGET_READ, Action.STATEMENT_ISSUE, Action.DISCHARGE_SUBMIT):
        with pytest.raises(Forbidden) as refused:
            equipe.require(action)
        assert refused.value.code == "access.role"
    for role in ("provider", "hospital", "district_admin"):
        assert not principal(roles=[role]).may(Action.CASE_READ)


def test_a_member_of_the_equipe_acts_only_in_their_districts() -> None:
    equipe = principal(roles=["equipe"], ambito_id=["desio", "magentino"])
    assert equipe.districts() == frozenset({"desio", "magentino"})
    equipe.require_district("desio")
    equipe.require_district("magentino")
    for other in ("atlantide", None, ""):
        with pytest.raises(Forbidden) as refused:
            equipe.require_district(other)
        assert refused.value.code == "access.district"
    # Without a district claim: no district at all, not every district.
    nowhere = principal(roles=["equipe"])
    assert nowhere.districts() == frozenset()
    with pytest.raises(Forbidden):
        nowhere.require_district("desio")


def test_the_auditor_sees_every_district_even_a_case_of_none() -> None:
    auditor = principal(roles=["auditor"])
    assert auditor.districts() is None
    auditor.require_district("atlantide")
    auditor.require_district(None)


def test_providers_and_hospitals_see_only_their_own() -> None:
    provider = principal(roles=["provider"], provider_id="coop-a")
    provider.require_provider("coop-a")
    with pytest.raises(Forbidden) as refused:
        provider.require_provider("coop-b")
    assert refused.value.code == "access.provider"
    principal(roles=["district_admin"], ambito_id="desio").require_provider("coop-b")
    principal(roles=["auditor"]).require_provider("coop-b")
    with pytest.raises(Forbidden):
        principal(roles=["equipe"], ambito_id="desio").require_provider("coop-a")

    hospital = principal(roles=["hospital"], hospital_id="asst-vimercate")
    hospital.require_hospital("asst-vimercate")
    with pytest.raises(Forbidden) as refused:
        hospital.require_hospital("asst-monza")
    assert refused.value.code == "access.hospital"
    with pytest.raises(Forbidden):
        principal(roles=["auditor"]).require_hospital("asst-vimercate")  # never sends
