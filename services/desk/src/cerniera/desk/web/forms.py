"""The team's forms: what a person typed, checked here first, with messages a person
understands next to each field, then built into the exact body the owning service takes.

The services refuse a malformed body in English (``request.invalid``): a form that reaches
them has passed these checks. The services' rules (the SAD hours cap, a week already
recorded) stay theirs: their refusal is shown with the form.

Pure: a form comes in as its (name, value) pairs, a body or the problems go out; each problem
is an i18n key (``form.*``), so the page says it in the reader's language.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, ClassVar, Literal, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from cerniera.desk.web import i18n
from cerniera.shared.contract.types import (
    AnswerValue,
    CheckOutcome,
    NetworkOutcome,
    NetworkResource,
    Recommendation,
    Resolution,
    ServiceType,
)

# The choices a form offers (the values the services take). Intake's BRASS scales are its
# own: copied here, and the unit tests check each body against intake's request models.
LIVING_SITUATIONS = (
    "with_spouse",
    "with_family",
    "alone_with_family_support",
    "alone_with_friends_support",
    "alone_without_support",
    "home_or_residential_care",
)
DEPENDENCIES = (
    "eating",
    "bathing_dressing",
    "toileting",
    "transferring",
    "bowel_incontinence",
    "urinary_incontinence",
    "meal_preparation",
    "medication",
    "money",
    "shopping",
    "transport",
)
COGNITIONS = (
    "oriented",
    "disoriented_some_spheres_sometimes",
    "disoriented_some_spheres_always",
    "disoriented_all_spheres_sometimes",
    "disoriented_all_spheres_always",
    "comatose",
)
BEHAVIOURS = ("wandering", "agitated", "confused", "other")
MOBILITIES = ("walks", "walks_with_aids", "walks_with_assistance", "does_not_walk")
SENSORY_DEFICITS = ("none", "vision_or_hearing", "vision_and_hearing")
BRASS_SINGLE = (
    "age",
    "living_situation",
    "cognition",
    "mobility",
    "sensory_deficits",
    "previous_admissions",
    "active_problems",
    "drugs",
)
"""The BRASS items answered once: with the ticked ones (dependencies, behaviours), the ten."""
ANSWERS = tuple(a.value for a in AnswerValue)
PLAN_REASONS = ("plan.tailored", "plan.check_adjustment", "plan.escalation_resolved")
EARLY_OUTCOMES = ("deceased", "institutionalised", "withdrawn")
DROP_REASONS = ("plan.not_needed", "plan.refused_by_person", "plan.covered_otherwise")
"""Why the team drops an escalated service (activation's ``reason_code``)."""
NETWORK_HELPERS = tuple(r.value for r in NetworkResource if r is not NetworkResource.FAMILY)
"""Who in the territorial network covers a service (the family is its own resolution)."""
SERVICE_TYPES = tuple(t.value for t in ServiceType)
DAY_SERVICES = frozenset({"teleassistance", "emergency_alarm"})
"""Counted in days a week: at most seven."""
MAX_CONTACTS = 3
MAX_TEXT = 4000
MAX_LINE = 256

_CONTROL = re.compile(r"[\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]")
_LINE_CONTROL = re.compile(r"[\x00-\x1F\x7F-\x9F]")
_ISTAT = re.compile(r"^[0-9]{6}$")
_DIGITS = re.compile(r"[0-9]{1,6}")
_ROME = i18n.TIMEZONE
_CENT = Decimal("0.01")


# --- what came in, and what goes back to the page -------------------------------------------

Submitted = dict[str, list[str]]
"""A form as posted: each name with its values (several for check boxes)."""


def submitted(pairs: Iterable[tuple[str, Any]]) -> Submitted:
    """The form's text fields (a file, never expected, is left out)."""
    found: Submitted = {}
    for name, value in pairs:
        if isinstance(value, str):
            found.setdefault(name, []).append(value)
    return found


@dataclass
class FormState:
    """A form as the page shows it again: what was typed, what is wrong with it (i18n keys by
    field; ``_form`` for the form as a whole), and the service's refusal, if any."""

    values: Submitted = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    refusal: str | None = None

    def value(self, name: str, default: Any = "") -> str:
        """What was typed; before the form is sent, ``default`` (what the case says)."""
        if not self.values:
            return "" if default is None else str(default)
        given = self.values.get(name)
        return given[0] if given else ""

    def checked(self, name: str, option: str, default: bool = False) -> bool:
        if not self.values:
            return default
        return option in self.values.get(name, ())

    def error(self, name: str) -> str | None:
        return self.errors.get(name)

    @property
    def failed(self) -> bool:
        return bool(self.errors) or self.refusal is not None


@dataclass(frozen=True)
class Checked:
    """A form checked: the body for the service, or what is wrong (field → i18n key)."""

    body: dict[str, Any] | None
    errors: dict[str, str]

    @classmethod
    def good(cls, body: dict[str, Any]) -> Checked:
        return cls(body, {})

    @classmethod
    def bad(cls, errors: dict[str, str]) -> Checked:
        assert errors
        return cls(None, errors)


def _one(form: Submitted, name: str) -> str:
    values = form.get(name) or [""]
    return values[0].strip()


def _fail(key: str) -> PydanticCustomError:
    return PydanticCustomError(key, key)


# --- field types: blank is none, numbers as people type them --------------------------------


def _blank(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        return None
    return value.strip() if isinstance(value, str) else value


Blank = BeforeValidator(_blank)
"""A field left empty is ``None``."""


def _whole(text: str) -> int | None:
    """A whole number as typed (digits only), else ``None``."""
    return int(text) if _DIGITS.fullmatch(text) else None


def note(value: str | None, key: str = "form.text") -> str | None:
    """A person's free text: at most 4000 characters, lines allowed, no control character."""
    if value is None:
        return None
    if len(value) > MAX_TEXT or _CONTROL.search(value):
        raise _fail(key)
    return value


def line(value: str | None, key: str = "form.line") -> str | None:
    """One line: a name, a phone (at most 256 characters)."""
    if value is None:
        return None
    if len(value) > MAX_LINE or _LINE_CONTROL.search(value):
        raise _fail(key)
    return value


def quantity(raw: str, service_type: str) -> Decimal | None:
    """A weekly quantity as typed ("4,5" or "4.5"); ``None`` when left empty (the service is
    not in the plan). Refused: not a number, zero or less, more than two decimals, more than
    seven days a week."""
    text = raw.strip().replace(",", ".")
    if not text:
        return None
    key = f"form.quantity.{service_type}"
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(key) from None
    most = 7 if service_type in DAY_SERVICES else 1000
    if not value.is_finite() or not 0 < value <= most or value != value.quantize(_CENT):
        raise ValueError(key)
    return value


def _number(value: Decimal) -> int | float:
    """A quantity as JSON: a whole number stays whole."""
    return int(value) if value == value.to_integral_value() else float(value)


def plan_lines(form: Submitted, errors: dict[str, str]) -> list[dict[str, Any]]:
    """The plan's lines from the ``qty_<service>`` fields, in the services' order (problems
    added to ``errors``)."""
    lines = []
    for service_type in SERVICE_TYPES:
        name = f"qty_{service_type}"
        try:
            value = quantity(_one(form, name), service_type)
        except ValueError as error:
            errors[name] = str(error)
            continue
        if value is not None:
            lines.append({"service_type": service_type, "weekly_quantity": _number(value)})
    if not lines and not errors:
        errors["_plan"] = "form.plan_empty"
    return lines


# --- the forms with a fixed shape -----------------------------------------------------------


class TeamForm(BaseModel):
    """A form with fixed fields: blank fields are ``None``; ``MESSAGES`` names the message of
    a field whose value is missing or not one of the choices."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    MULTI: ClassVar[frozenset[str]] = frozenset()
    MESSAGES: ClassVar[dict[str, str]] = {}

    def body(self) -> dict[str, Any]:
        raise NotImplementedError


F = TypeVar("F", bound=TeamForm)


def check(model: type[F], form: Submitted, **context: Any) -> Checked:
    """``form`` checked by ``model``: its body, or each field's problem."""
    data: dict[str, Any] = {
        name: (form.get(name, []) if name in model.MULTI else _one(form, name))
        for name in model.model_fields
    }
    try:
        parsed = model.model_validate(data, context=context)
    except ValidationError as error:
        problems: dict[str, str] = {}
        for item in error.errors():
            where = str(item["loc"][0]) if item["loc"] else "_form"
            kind = item["type"]
            key = kind if kind.startswith("form.") else model.MESSAGES.get(where, "form.invalid")
            problems.setdefault(where, key)
        return Checked.bad(problems)
    return Checked.good(parsed.body())


class ConsentForm(TeamForm):
    """Intake ``PUT /cases/{id}/consent``."""

    given: Literal["yes", "no"]
    given_by: Literal["person", "guardian"]
    guardian_name: Annotated[str | None, Blank] = None

    MESSAGES: ClassVar[dict[str, str]] = {
        "given": "form.consent.given",
        "given_by": "form.consent.given_by",
    }

    @field_validator("guardian_name")
    @classmethod
    def _guardian(cls, value: str | None, info: ValidationInfo) -> str | None:
        by = info.data.get("given_by")
        if by == "guardian" and value is None:
            raise _fail("form.consent.guardian_missing")
        if by == "person" and value is not None:
            raise _fail("form.consent.guardian_unexpected")
        return line(value)

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"given": self.given == "yes", "given_by": self.given_by}
        if self.guardian_name is not None:
            body["guardian_name"] = self.guardian_name
        return body


class NetworkTaskForm(TeamForm):
    """Intake ``POST /cases/{id}/network-task``."""

    outcome: NetworkOutcome
    resources: list[NetworkResource] = []
    notes: Annotated[str | None, Blank] = None

    MULTI: ClassVar[frozenset[str]] = frozenset({"resources"})
    MESSAGES: ClassVar[dict[str, str]] = {
        "outcome": "form.network.outcome",
        "resources": "form.choice",
        "notes": "form.text",
    }

    @field_validator("resources")
    @classmethod
    def _someone_if_engaged(
        cls, value: list[NetworkResource], info: ValidationInfo
    ) -> list[NetworkResource]:
        engaged = info.data.get("outcome") in (
            NetworkOutcome.ENGAGED,
            NetworkOutcome.PARTIALLY_ENGAGED,
        )
        if engaged and not value:
            raise _fail("form.network.resources")
        return list(dict.fromkeys(value))

    @field_validator("notes")
    @classmethod
    def _notes(cls, value: str | None) -> str | None:
        return note(value)

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "outcome": self.outcome.value,
            "resources": [r.value for r in self.resources],
        }
        if self.notes is not None:
            body["notes"] = self.notes
        return body


class ResolveForm(TeamForm):
    """Activation ``POST /cases/{id}/escalations/{service}/resolve``: each resolution with its
    own detail (the provider, who in the network covers it, why it is dropped)."""

    resolution: Resolution
    provider_id: Annotated[str | None, Blank] = None
    covered_by: Annotated[str | None, Blank] = None
    drop_reason: Annotated[str | None, Blank] = None

    MESSAGES: ClassVar[dict[str, str]] = {"resolution": "form.resolve.resolution"}

    @field_validator("provider_id")
    @classmethod
    def _provider(cls, value: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("resolution") is not Resolution.MANUAL_PROVIDER:
            return None
        offered = (info.context or {}).get("providers", ())
        if value is None or value not in offered:
            raise _fail("form.resolve.provider")
        return value

    @field_validator("covered_by")
    @classmethod
    def _network(cls, value: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("resolution") is not Resolution.TERRITORIAL_NETWORK:
            return None
        if value not in NETWORK_HELPERS:
            raise _fail("form.resolve.covered_by")
        return value

    @field_validator("drop_reason")
    @classmethod
    def _drop(cls, value: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("resolution") is not Resolution.DROPPED:
            return None
        if value not in DROP_REASONS:
            raise _fail("form.resolve.drop_reason")
        return value

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"resolution": self.resolution.value}
        if self.resolution is Resolution.MANUAL_PROVIDER:
            body["provider_id"] = self.provider_id
        elif self.resolution is Resolution.FAMILY:
            body["covered_by"] = NetworkResource.FAMILY.value
        elif self.resolution is Resolution.TERRITORIAL_NETWORK:
            body["covered_by"] = self.covered_by
        elif self.resolution is Resolution.DROPPED:
            body["reason_code"] = self.drop_reason
        return body


class CheckForm(TeamForm):
    """Monitoring ``POST /cases/{id}/checks``; the week and the moment may be left out (the
    earliest week not recorded, now)."""

    outcome: CheckOutcome
    recommendation: Annotated[Recommendation | None, Blank] = None
    notes: Annotated[str | None, Blank] = None
    week: Annotated[int | None, Blank] = None
    checked_at: Annotated[str | None, Blank] = None

    MESSAGES: ClassVar[dict[str, str]] = {
        "outcome": "form.check.outcome",
        "recommendation": "form.choice",
        "week": "form.check.week",
        "notes": "form.text",
    }

    @field_validator("week")
    @classmethod
    def _week(cls, value: int | None) -> int | None:
        if value is not None and not 1 <= value <= 52:
            raise _fail("form.check.week")
        return value

    @field_validator("notes")
    @classmethod
    def _notes(cls, value: str | None) -> str | None:
        return note(value)

    @field_validator("checked_at")
    @classmethod
    def _when(cls, value: str | None, info: ValidationInfo) -> str | None:
        """Typed on Italian time (``datetime-local``); not in the future."""
        if value is None:
            return None
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise _fail("form.check.when") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=_ROME)
        now = (info.context or {}).get("now")
        if isinstance(now, datetime) and moment > now:
            raise _fail("form.check.when_future")
        return moment.isoformat()

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"outcome": self.outcome.value}
        if self.recommendation is not None:
            body["recommendation"] = self.recommendation.value
        if self.notes is not None:
            body["notes"] = self.notes
        if self.week is not None:
            body["week"] = self.week
        if self.checked_at is not None:
            body["checked_at"] = self.checked_at
        return body


class CloseForm(TeamForm):
    """Monitoring ``POST /cases/{id}/close``: a case ended early."""

    outcome: Literal["deceased", "institutionalised", "withdrawn"]
    note: Annotated[str | None, Blank] = None

    MESSAGES: ClassVar[dict[str, str]] = {"outcome": "form.close.outcome", "note": "form.text"}

    @field_validator("note")
    @classmethod
    def _note(cls, value: str | None) -> str | None:
        return note(value)

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"outcome": self.outcome}
        if self.note is not None:
            body["note"] = self.note
        return body


# --- the forms whose fields depend on the case ----------------------------------------------


def check_assessment(form: Submitted, requirements: Sequence[str]) -> Checked:
    """Intake ``PUT /cases/{id}/assessment``: every requirement of the district's checklist
    answered; the BRASS as its total or as its ten items (not both: intake computes the total
    of the items); notes."""
    errors: dict[str, str] = {}
    answers = {}
    for requirement in requirements:
        answer = _one(form, requirement)
        if answer not in ANSWERS:
            errors[requirement] = "form.answer_missing"
        else:
            answers[requirement] = answer
    if not requirements:
        errors["_form"] = "form.no_checklist"
    body: dict[str, Any] = {"answers": answers}

    score_text = _one(form, "brass_score")
    items_given = any(_one(form, name) for name in BRASS_SINGLE) or any(
        form.get(name) for name in ("dependencies", "behaviours")
    )
    if score_text and items_given:
        errors["brass_score"] = "form.brass.both"
    elif score_text:
        score = _whole(score_text)
        if score is None or score > 40:
            errors["brass_score"] = "form.brass.score"
        else:
            body["brass_score"] = score
    elif items_given:
        items = _brass_items(form, errors)
        if items is not None:
            body["brass_items"] = items

    try:
        notes = note(_blank(_one(form, "notes")))
    except PydanticCustomError as error:
        errors["notes"] = error.type
    else:
        if notes is not None:
            body["notes"] = notes
    return Checked.bad(errors) if errors else Checked.good(body)


def _brass_items(form: Submitted, errors: dict[str, str]) -> dict[str, Any] | None:
    found: dict[str, Any] = {}
    before = len(errors)
    scales = {
        "living_situation": LIVING_SITUATIONS,
        "cognition": COGNITIONS,
        "mobility": MOBILITIES,
        "sensory_deficits": SENSORY_DEFICITS,
    }
    for name, scale in scales.items():
        value = _one(form, name)
        if value not in scale:
            errors[name] = "form.brass.item_missing" if not value else "form.choice"
        else:
            found[name] = value
    counts = {"age": 130, "previous_admissions": 1000, "active_problems": 1000, "drugs": 1000}
    for name, most in counts.items():
        value = _one(form, name)
        count = _whole(value)
        if not value:
            errors[name] = "form.brass.item_missing"
        elif count is None or count > most:
            errors[name] = "form.brass.age" if name == "age" else "form.count"
        else:
            found[name] = count
    for name, options in (("dependencies", DEPENDENCIES), ("behaviours", BEHAVIOURS)):
        ticked = list(dict.fromkeys(form.get(name, [])))
        if any(t not in options for t in ticked):
            errors[name] = "form.choice"
        else:
            found[name] = ticked
    return found if len(errors) == before else None


def check_confirm(form: Submitted, proposal: Sequence[tuple[str, float]]) -> Checked:
    """Intake ``POST /cases/{id}/confirm``: the plan as proposed (no services sent), or
    tailored, with the reason why it differs."""
    errors: dict[str, str] = {}
    lines = plan_lines(form, errors)
    reason = _text_field(form, "reason", errors)
    if errors:
        return Checked.bad(errors)
    proposed = {t: Decimal(str(q)) for t, q in proposal}
    chosen = {line["service_type"]: Decimal(str(line["weekly_quantity"])) for line in lines}
    if chosen == proposed:
        return Checked.good({})
    if reason is None:
        return Checked.bad({"reason": "form.reason_tailored"})
    return Checked.good({"services": lines, "reason": reason})


def check_plan(form: Submitted) -> Checked:
    """Intake ``PUT /cases/{id}/plan``: the services from now on, why (the code published and
    the operator's words, kept in intake)."""
    errors: dict[str, str] = {}
    lines = plan_lines(form, errors)
    code = _one(form, "reason_code")
    if code not in PLAN_REASONS:
        errors["reason_code"] = "form.plan.reason_code"
    reason = _text_field(form, "reason", errors)
    if reason is None and "reason" not in errors:
        errors["reason"] = "form.plan.reason"
    if errors:
        return Checked.bad(errors)
    return Checked.good({"services": lines, "reason_code": code, "reason": reason})


def check_hand_over(form: Submitted, services: Sequence[str]) -> Checked:
    """Monitoring ``POST /cases/{id}/hand-over``: the case's services that go on, the
    municipality (default: the person's), the needs and up to three contacts."""
    errors: dict[str, str] = {}
    continuing = list(dict.fromkeys(form.get("continuing", [])))
    if any(s not in services for s in continuing):
        errors["continuing"] = "form.choice"
    body: dict[str, Any] = {"continuing": continuing}
    municipality = _one(form, "municipality_code")
    if municipality:
        if not _ISTAT.match(municipality):
            errors["municipality_code"] = "form.handover.municipality"
        else:
            body["municipality_code"] = municipality
    needs = _text_field(form, "needs", errors)
    if needs is not None:
        body["needs"] = needs
    contacts = []
    for n in range(1, MAX_CONTACTS + 1):
        fields = {k: _one(form, f"contact_{k}_{n}") for k in ("name", "role", "phone")}
        if not any(fields.values()):
            continue
        if not fields["name"]:
            errors[f"contact_name_{n}"] = "form.handover.contact_name"
            continue
        contact: dict[str, Any] = {}
        for key, value in fields.items():
            if not value:
                continue
            if len(value) > MAX_LINE or _LINE_CONTROL.search(value):
                errors[f"contact_{key}_{n}"] = "form.line"
            contact[key] = value
        contacts.append(contact)
    body["contacts"] = contacts
    return Checked.bad(errors) if errors else Checked.good(body)


def _text_field(form: Submitted, name: str, errors: dict[str, str]) -> str | None:
    try:
        return note(_blank(_one(form, name)))
    except PydanticCustomError as error:
        errors[name] = error.type
        return None


# --- the words ------------------------------------------------------------------------------

MESSAGES: dict[str, dict[str, str]] = {
    "form.invalid": {"it": "Valore non valido.", "en": "Not a valid value."},
    "form.choice": {
        "it": "Scegli una delle voci proposte.",
        "en": "Choose one of the options offered.",
    },
    "form.text": {
        "it": "Scrivi al massimo 4000 caratteri, senza caratteri di controllo.",
        "en": "Write at most 4000 characters, with no control characters.",
    },
    "form.line": {
        "it": "Scrivi una sola riga di al massimo 256 caratteri.",
        "en": "Write a single line of at most 256 characters.",
    },
    "form.count": {
        "it": "Indica un numero intero: zero o più.",
        "en": "Give a whole number: zero or more.",
    },
    "form.no_checklist": {
        "it": "La lista dei requisiti dell'ambito non è disponibile ora: riprova tra poco.",
        "en": "The district's checklist is not available now: try again shortly.",
    },
    "form.answer_missing": {
        "it": "Rispondi a questo requisito: sì, in parte o no.",
        "en": "Answer this requirement: yes, partly or no.",
    },
    "form.brass.both": {
        "it": "Indica il punteggio BRASS oppure le dieci voci, non entrambi.",
        "en": "Give the BRASS score or its ten items, not both.",
    },
    "form.brass.score": {
        "it": "Indica il punteggio BRASS: un numero intero da 0 a 40.",
        "en": "Give the BRASS score: a whole number from 0 to 40.",
    },
    "form.brass.item_missing": {
        "it": "Completa questa voce: per calcolare il BRASS servono tutte le voci.",
        "en": "Fill in this item: the BRASS needs every item.",
    },
    "form.brass.age": {
        "it": "Indica l'età in anni: un numero intero da 0 a 130.",
        "en": "Give the age in years: a whole number from 0 to 130.",
    },
    "form.quantity.sad": {
        "it": "Indica le ore settimanali (un numero maggiore di zero, al massimo due decimali).",
        "en": "Give the hours a week (a number above zero, at most two decimals).",
    },
    "form.quantity.meals": {
        "it": "Indica i pasti a settimana (un numero maggiore di zero).",
        "en": "Give the meals a week (a number above zero).",
    },
    "form.quantity.teleassistance": {
        "it": "Indica i giorni a settimana: da 1 a 7.",
        "en": "Give the days a week: 1 to 7.",
    },
    "form.quantity.emergency_alarm": {
        "it": "Indica i giorni a settimana: da 1 a 7.",
        "en": "Give the days a week: 1 to 7.",
    },
    "form.plan_empty": {
        "it": "Indica almeno un servizio con la sua quantità settimanale.",
        "en": "Give at least one service with its weekly quantity.",
    },
    "form.reason_tailored": {
        "it": "Il piano è diverso dalla proposta: spiega perché.",
        "en": "The plan differs from the proposal: say why.",
    },
    "form.plan.reason_code": {
        "it": "Scegli il motivo della revisione.",
        "en": "Choose why the plan is revised.",
    },
    "form.plan.reason": {
        "it": "Spiega perché il piano cambia.",
        "en": "Say why the plan changes.",
    },
    "form.consent.given": {
        "it": "Indica se il consenso è stato dato o rifiutato.",
        "en": "Say whether consent was given or refused.",
    },
    "form.consent.given_by": {
        "it": "Indica chi ha espresso il consenso: la persona o il tutore.",
        "en": "Say who expressed consent: the person or the guardian.",
    },
    "form.consent.guardian_missing": {
        "it": "Indica il nome del tutore o amministratore di sostegno.",
        "en": "Give the name of the guardian.",
    },
    "form.consent.guardian_unexpected": {
        "it": "Il nome del tutore va indicato solo se il consenso è del tutore.",
        "en": "Give a guardian's name only when the guardian consents.",
    },
    "form.network.outcome": {
        "it": "Indica l'esito dell'attivazione della rete.",
        "en": "Give the outcome of engaging the network.",
    },
    "form.network.resources": {
        "it": "Indica chi partecipa: almeno una voce.",
        "en": "Say who takes part: at least one.",
    },
    "form.resolve.resolution": {
        "it": "Scegli come risolvere la segnalazione.",
        "en": "Choose how to resolve the escalation.",
    },
    "form.resolve.provider": {
        "it": "Scegli l'ente a cui affidare il servizio.",
        "en": "Choose the provider to give the service to.",
    },
    "form.resolve.covered_by": {
        "it": "Scegli chi della rete territoriale copre il servizio.",
        "en": "Choose who in the territorial network covers the service.",
    },
    "form.resolve.drop_reason": {
        "it": "Scegli perché il servizio esce dal piano.",
        "en": "Choose why the service leaves the plan.",
    },
    "form.check.outcome": {
        "it": "Indica l'esito della verifica.",
        "en": "Give the outcome of the check.",
    },
    "form.check.week": {
        "it": "Indica la settimana: un numero intero da 1 in su (o lascia vuoto).",
        "en": "Give the week: a whole number from 1 (or leave it empty).",
    },
    "form.check.when": {
        "it": "Indica data e ora della verifica (o lascia vuoto per adesso).",
        "en": "Give the date and time of the check (or leave it empty for now).",
    },
    "form.check.when_future": {
        "it": "La verifica non può essere nel futuro.",
        "en": "The check cannot be in the future.",
    },
    "form.close.outcome": {
        "it": "Indica perché il caso si chiude.",
        "en": "Say why the case closes.",
    },
    "form.handover.municipality": {
        "it": "Il codice ISTAT del Comune ha sei cifre (o lascia vuoto per il Comune di "
        "residenza).",
        "en": "A municipality's ISTAT code has six digits (or leave it empty for the "
        "municipality of residence).",
    },
    "form.handover.contact_name": {
        "it": "Indica il nome del contatto.",
        "en": "Give the contact's name.",
    },
}

i18n.register(MESSAGES)
