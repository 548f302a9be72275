"""The team's forms, without I/O: what a person types becomes the exact body the owning
service takes (checked here against the services' own request models), and what is wrong is
said next to the field, in Italian and English."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import BaseModel

from cerniera.activation.api import ResolveRequest
from cerniera.desk.web import forms, i18n
from cerniera.desk.web.forms import Checked, FormState, Submitted
from cerniera.intake import brass
from cerniera.intake.schemas import (
    AssessmentRequest,
    ConfirmRequest,
    ConsentRequest,
    NetworkTaskRequest,
    PlanRequest,
)
from cerniera.monitoring.schemas import CheckRequest, CloseRequest, HandOverBody

REQUIREMENTS = ("R1", "R2", "R3")
NOW = datetime(2024, 10, 10, 12, 0, tzinfo=UTC)


def typed(**fields: str | list[str]) -> Submitted:
    return {k: v if isinstance(v, list) else [v] for k, v in fields.items()}


def body(checked: Checked, model: type[BaseModel]) -> dict[str, Any]:
    """The body, which the service's own request model accepts as it is."""
    assert checked.errors == {}
    assert checked.body is not None
    model.model_validate(checked.body)
    return checked.body


def brass_items(**changed: str | list[str]) -> dict[str, str | list[str]]:
    items: dict[str, str | list[str]] = {
        "age": "82",
        "living_situation": "alone_with_family_support",
        "dependencies": ["bathing_dressing", "shopping"],
        "cognition": "oriented",
        "mobility": "walks_with_aids",
        "sensory_deficits": "vision_or_hearing",
        "previous_admissions": "1",
        "active_problems": "4",
        "drugs": "6",
    }
    return {**items, **changed}


# --- every message is in both languages ---------------------------------------------------


def test_every_message_says_it_in_italian_and_english() -> None:
    for key, words in forms.MESSAGES.items():
        assert key.startswith("form.")
        assert words["it"]
        assert words["en"]
        assert words["it"] != key
        assert i18n.text(key, "it") == words["it"]


# --- the assessment ---------------------------------------------------------------------------


def test_an_assessment_with_the_brass_total() -> None:
    form = typed(R1="yes", R2="no", R3="partial", brass_score="22", notes="  Vive sola.  ")

    sent = body(forms.check_assessment(form, REQUIREMENTS), AssessmentRequest)

    assert sent == {
        "answers": {"R1": "yes", "R2": "no", "R3": "partial"},
        "brass_score": 22,
        "notes": "Vive sola.",
    }


def test_an_assessment_with_the_ten_brass_items_leaves_the_total_to_intake() -> None:
    form = typed(R1="yes", R2="no", R3="yes", **brass_items(behaviours=["confused"]))

    sent = body(forms.check_assessment(form, REQUIREMENTS), AssessmentRequest)

    assert "brass_score" not in sent
    assert sent["brass_items"] == {
        "age": 82,
        "living_situation": "alone_with_family_support",
        "dependencies": ["bathing_dressing", "shopping"],
        "cognition": "oriented",
        "behaviours": ["confused"],
        "mobility": "walks_with_aids",
        "sensory_deficits": "vision_or_hearing",
        "previous_admissions": 1,
        "active_problems": 4,
        "drugs": 6,
    }


def test_an_assessment_without_brass_sends_only_the_answers() -> None:
    sent = body(
        forms.check_assessment(typed(R1="no", R2="yes", R3="no"), REQUIREMENTS), AssessmentRequest
    )

    assert sent == {"answers": {"R1": "no", "R2": "yes", "R3": "no"}}


@pytest.mark.parametrize(
    ("form", "errors"),
    [
        (typed(R1="yes", R3="maybe"), {"R2": "form.answer_missing", "R3": "form.answer_missing"}),
        (typed(R1="yes", R2="no", R3="no", brass_score="41"), {"brass_score": "form.brass.score"}),
        (typed(R1="yes", R2="no", R3="no", brass_score="-1"), {"brass_score": "form.brass.score"}),
        (
            typed(R1="yes", R2="no", R3="no", brass_score="ventidue"),
            {"brass_score": "form.brass.score"},
        ),
        (
            typed(R1="yes", R2="no", R3="no", brass_score="22", **brass_items()),
            {"brass_score": "form.brass.both"},
        ),
        (
            typed(R1="yes", R2="no", R3="no", age="82"),
            {name: "form.brass.item_missing" for name in forms.BRASS_SINGLE if name != "age"},
        ),
        (
            typed(R1="yes", R2="no", R3="no", **brass_items(age="200", drugs="tre")),
            {"age": "form.brass.age", "drugs": "form.count"},
        ),
        (
            typed(R1="yes", R2="no", R3="no", **brass_items(dependencies=["flying"])),
            {"dependencies": "form.choice"},
        ),
        (typed(R1="yes", R2="no", R3="no", notes="a\x00b"), {"notes": "form.text"}),
        (typed(R1="yes", R2="no", R3="no", notes="x" * 4001), {"notes": "form.text"}),
    ],
)
def test_what_is_wrong_in_an_assessment_is_said_by_field(
    form: Submitted, errors: dict[str, str]
) -> None:
    checked = forms.check_assessment(form, REQUIREMENTS)

    assert checked.body is None
    assert checked.errors == errors


def test_without_the_districts_checklist_an_assessment_cannot_be_checked() -> None:
    checked = forms.check_assessment(typed(R1="yes"), [])

    assert checked.errors == {"_form": "form.no_checklist"}


def test_the_brass_scales_are_intakes() -> None:
    assert tuple(brass.LivingSituation) == forms.LIVING_SITUATIONS
    assert tuple(brass.Dependency) == forms.DEPENDENCIES
    assert tuple(brass.Cognition) == forms.COGNITIONS
    assert tuple(brass.Behaviour) == forms.BEHAVIOURS
    assert tuple(brass.Mobility) == forms.MOBILITIES
    assert tuple(brass.SensoryDeficit) == forms.SENSORY_DEFICITS
    assert set(forms.BRASS_SINGLE) | {"dependencies", "behaviours"} == set(
        brass.BrassItems.model_fields
    )


# --- consent ----------------------------------------------------------------------------------


def test_the_persons_consent() -> None:
    sent = body(
        forms.check(forms.ConsentForm, typed(given="yes", given_by="person")), ConsentRequest
    )

    assert sent == {"given": True, "given_by": "person"}


def test_a_guardians_refusal_names_the_guardian() -> None:
    form = typed(given="no", given_by="guardian", guardian_name=" Avv. Carla Neri ")

    sent = body(forms.check(forms.ConsentForm, form), ConsentRequest)

    assert sent == {"given": False, "given_by": "guardian", "guardian_name": "Avv. Carla Neri"}


@pytest.mark.parametrize(
    ("form", "errors"),
    [
        (typed(), {"given": "form.consent.given", "given_by": "form.consent.given_by"}),
        (
            typed(given="yes", given_by="guardian"),
            {"guardian_name": "form.consent.guardian_missing"},
        ),
        (
            typed(given="yes", given_by="person", guardian_name="Carla"),
            {"guardian_name": "form.consent.guardian_unexpected"},
        ),
    ],
)
def test_what_is_wrong_in_a_consent(form: Submitted, errors: dict[str, str]) -> None:
    assert forms.check(forms.ConsentForm, form).errors == errors


# --- the plan: confirmed, tailored, revised -------------------------------------------------

PROPOSAL = [("sad", 6.0), ("meals", 5.0), ("teleassistance", 7.0)]


def test_the_proposal_confirmed_as_it_is_sends_no_services() -> None:
    form = typed(qty_sad="6", qty_meals="5,0", qty_teleassistance="7", qty_emergency_alarm="")

    assert body(forms.check_confirm(form, PROPOSAL), ConfirmRequest) == {}


def test_a_tailored_plan_is_sent_with_its_reason() -> None:
    form = typed(qty_sad="9,5", qty_meals="", qty_teleassistance="7", reason="Figlia a pranzo.")

    sent = body(forms.check_confirm(form, PROPOSAL), ConfirmRequest)

    assert sent == {
        "services": [
            {"service_type": "sad", "weekly_quantity": 9.5},
            {"service_type": "teleassistance", "weekly_quantity": 7},
        ],
        "reason": "Figlia a pranzo.",
    }


def test_a_tailored_plan_needs_its_reason() -> None:
    form = typed(qty_sad="9", qty_teleassistance="7")

    assert forms.check_confirm(form, PROPOSAL).errors == {"reason": "form.reason_tailored"}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("qty_sad", "0"),
        ("qty_sad", "-3"),
        ("qty_sad", "nove"),
        ("qty_sad", "4.555"),
        ("qty_sad", "NaN"),
        ("qty_meals", "1e9"),
        ("qty_teleassistance", "8"),
        ("qty_emergency_alarm", "7.5"),
    ],
)
def test_a_weekly_quantity_is_a_positive_number(field: str, value: str) -> None:
    checked = forms.check_plan(typed(**{field: value}, reason_code="plan.tailored", reason="x"))

    assert checked.errors == {field: f"form.quantity.{field.removeprefix('qty_')}"}
    assert i18n.text(checked.errors[field], "it").startswith("Indica")


def test_the_sad_hours_message_says_what_to_type() -> None:
    assert i18n.text("form.quantity.sad", "it") == (
        "Indica le ore settimanali (un numero maggiore di zero, al massimo due decimali)."
    )


def test_a_plan_revision() -> None:
    form = typed(
        qty_sad="4",
        qty_emergency_alarm="7",
        reason_code="plan.check_adjustment",
        reason="Si lava da sola.",
    )

    sent = body(forms.check_plan(form), PlanRequest)

    assert sent == {
        "services": [
            {"service_type": "sad", "weekly_quantity": 4},
            {"service_type": "emergency_alarm", "weekly_quantity": 7},
        ],
        "reason_code": "plan.check_adjustment",
        "reason": "Si lava da sola.",
    }


def test_a_plan_revision_needs_a_service_a_code_and_a_reason() -> None:
    checked = forms.check_plan(typed(reason_code="plan.package"))

    assert checked.errors == {
        "_plan": "form.plan_empty",
        "reason_code": "form.plan.reason_code",
        "reason": "form.plan.reason",
    }


# --- the territorial network ----------------------------------------------------------------


def test_the_networks_answer() -> None:
    form = typed(
        outcome="engaged", resources=["volunteers", "parish", "volunteers"], notes="Spesa."
    )

    sent = body(forms.check(forms.NetworkTaskForm, form), NetworkTaskRequest)

    assert sent == {"outcome": "engaged", "resources": ["volunteers", "parish"], "notes": "Spesa."}


def test_a_network_not_available_needs_nobody() -> None:
    sent = body(
        forms.check(forms.NetworkTaskForm, typed(outcome="not_available")), NetworkTaskRequest
    )

    assert sent == {"outcome": "not_available", "resources": []}


@pytest.mark.parametrize(
    ("form", "errors"),
    [
        (typed(), {"outcome": "form.network.outcome"}),
        (typed(outcome="engaged"), {"resources": "form.network.resources"}),
        (typed(outcome="engaged", resources=["aliens"]), {"resources": "form.choice"}),
    ],
)
def test_what_is_wrong_in_the_networks_answer(form: Submitted, errors: dict[str, str]) -> None:
    assert forms.check(forms.NetworkTaskForm, form).errors == errors


# --- an escalation resolved -----------------------------------------------------------------

PROVIDERS = ["coop-il-melograno", "coop-solidarieta-brianza"]


@pytest.mark.parametrize(
    ("form", "sent"),
    [
        (
            typed(
                resolution="manual_provider",
                provider_id="coop-il-melograno",
                drop_reason="plan.not_needed",
            ),
            {"resolution": "manual_provider", "provider_id": "coop-il-melograno"},
        ),
        (typed(resolution="family"), {"resolution": "family", "covered_by": "family"}),
        (
            typed(resolution="territorial_network", covered_by="volunteers"),
            {"resolution": "territorial_network", "covered_by": "volunteers"},
        ),
        (
            typed(resolution="dropped", drop_reason="plan.not_needed"),
            {"resolution": "dropped", "reason_code": "plan.not_needed"},
        ),
        (
            typed(resolution="postponement_requested", provider_id="coop-il-melograno"),
            {"resolution": "postponement_requested"},
        ),
    ],
)
def test_each_resolution_carries_its_own_detail_and_no_other(
    form: Submitted, sent: dict[str, Any]
) -> None:
    checked = forms.check(forms.ResolveForm, form, providers=PROVIDERS)

    assert body(checked, ResolveRequest) == sent


@pytest.mark.parametrize(
    ("form", "errors"),
    [
        (typed(), {"resolution": "form.resolve.resolution"}),
        (typed(resolution="manual_provider"), {"provider_id": "form.resolve.provider"}),
        (
            typed(resolution="manual_provider", provider_id="coop-of-another-district"),
            {"provider_id": "form.resolve.provider"},
        ),
        (
            typed(resolution="territorial_network", covered_by="family"),
            {"covered_by": "form.resolve.covered_by"},
        ),
        (typed(resolution="dropped"), {"drop_reason": "form.resolve.drop_reason"}),
    ],
)
def test_what_is_wrong_in_a_resolution(form: Submitted, errors: dict[str, str]) -> None:
    assert forms.check(forms.ResolveForm, form, providers=PROVIDERS).errors == errors


# --- monitoring: a check, a closure, the hand-over ------------------------------------------


def test_a_weekly_check_with_only_its_outcome() -> None:
    sent = body(
        forms.check(forms.CheckForm, typed(outcome="stable", recommendation="", week=""), now=NOW),
        CheckRequest,
    )

    assert sent == {"outcome": "stable"}


def test_a_weekly_check_in_full_its_time_on_italian_time() -> None:
    form = typed(
        outcome="needs_adjustment",
        recommendation="hand_over_to_municipality",
        notes="Aumentare il SAD.",
        week="2",
        checked_at="2024-10-10T09:30",
    )

    sent = body(forms.check(forms.CheckForm, form, now=NOW), CheckRequest)

    assert sent == {
        "outcome": "needs_adjustment",
        "recommendation": "hand_over_to_municipality",
        "notes": "Aumentare il SAD.",
        "week": 2,
        "checked_at": "2024-10-10T09:30:00+02:00",
    }


@pytest.mark.parametrize(
    ("form", "errors"),
    [
        (typed(outcome="fine"), {"outcome": "form.check.outcome"}),
        (typed(outcome="stable", week="0"), {"week": "form.check.week"}),
        (typed(outcome="stable", week="due"), {"week": "form.check.week"}),
        (typed(outcome="stable", checked_at="ieri"), {"checked_at": "form.check.when"}),
        (
            typed(outcome="stable", checked_at="2024-10-10T15:00"),
            {"checked_at": "form.check.when_future"},
        ),
        (typed(outcome="stable", recommendation="maybe"), {"recommendation": "form.choice"}),
    ],
)
def test_what_is_wrong_in_a_check(form: Submitted, errors: dict[str, str]) -> None:
    assert forms.check(forms.CheckForm, form, now=NOW).errors == errors


def test_an_early_closure() -> None:
    sent = body(forms.check(forms.CloseForm, typed(outcome="deceased", note="")), CloseRequest)

    assert sent == {"outcome": "deceased"}
    assert forms.check(forms.CloseForm, typed(outcome="completed")).errors == {
        "outcome": "form.close.outcome"
    }


def test_a_hand_over_with_its_contacts() -> None:
    form = typed(
        continuing=["sad"],
        municipality_code="108023",
        needs="Spesa e igiene.",
        contact_name_1="Lucia Rossi",
        contact_role_1="figlia",
        contact_phone_1="+39 333 1234567",
        contact_name_2="",
        contact_role_2="",
        contact_name_3="Mario Bianchi",
    )

    sent = body(forms.check_hand_over(form, ["sad", "teleassistance"]), HandOverBody)

    assert sent == {
        "continuing": ["sad"],
        "municipality_code": "108023",
        "needs": "Spesa e igiene.",
        "contacts": [
            {"name": "Lucia Rossi", "role": "figlia", "phone": "+39 333 1234567"},
            {"name": "Mario Bianchi"},
        ],
    }


def test_a_hand_over_with_nothing_continuing_to_the_persons_municipality() -> None:
    sent = body(forms.check_hand_over(typed(), ["sad"]), HandOverBody)

    assert sent == {"continuing": [], "contacts": []}


def test_what_is_wrong_in_a_hand_over() -> None:
    form = typed(continuing=["meals"], municipality_code="1080", contact_role_2="figlia")

    assert forms.check_hand_over(form, ["sad"]).errors == {
        "continuing": "form.choice",
        "municipality_code": "form.handover.municipality",
        "contact_name_2": "form.handover.contact_name",
    }


# --- the form shown again -------------------------------------------------------------------


def test_a_form_shown_again_keeps_what_was_typed_not_the_cases_values() -> None:
    fresh, sent = (
        FormState(),
        FormState(typed(given_by="guardian"), {"given": "form.consent.given"}),
    )

    assert fresh.value("given_by", "person") == "person"
    assert sent.value("given_by", "person") == "guardian"
    assert sent.value("given", "yes") == ""  # left empty: not the default again
    assert fresh.checked("resources", "parish", default=True)
    assert not sent.checked("resources", "parish", default=True)
    assert sent.error("given") == "form.consent.given"
    assert sent.failed
