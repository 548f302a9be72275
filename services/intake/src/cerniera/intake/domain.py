"""Intake's cases, pure: no I/O, so every rule is tested on its own.

A case moves from the ward's announcement to a decision:
``awaiting_assessment`` (no Phase-2 answers yet) → ``eligible`` | ``not_eligible``;
the hospital may cancel it at any point before or after (``cancelled``).

The rule advises; the district says who decides (``[intake] decision``). Where the team
decides, an eligible result of the rule is a proposal (``awaiting_confirmation``) until the
team confirms it; either way nothing is published (no provider is contacted) before the
person's or guardian's consent (``awaiting_consent``). ``eligible`` means the decision is
published. A readmission before the decision (``readmitted``) and monitoring's closure
(``closed``) end the team's work on the case.

The team (équipe: the district's social and health operators) may then correct the answers
(``reassess``) or override the rule (``override``). Either can publish a new decision for the
same case: the later decision event for a case id supersedes the earlier one, and its reasons
say why (``assessment.corrected``, ``override.team``).

The entities: the ``Case`` as intake keeps it (the person's data never leaves intake), the
team's assessment versions, overrides and taking-charge versions. The district's rule itself
is in ``eligibility``. Time is passed in; refusals are ``cerniera.shared.refusals``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Protocol

from cerniera.intake import brass
from cerniera.intake.brass import BrassItems, BrassResult
from cerniera.intake.config import Ambito, IntakeConfig
from cerniera.intake.eligibility import (
    ITALIAN,
    RULE,
    Decision,
    Eligible,
    NotEligible,
    decide,
    describe,
    package,
    same_decision,
    unknown_requirements,
)
from cerniera.intake.eligibility import reason as _reason
from cerniera.intake.plans import (
    CONFIRMED_TEXT,
    Consent,
    PlanReason,
    consent_of,
    plan_reason,
    same_services,
)
from cerniera.shared.clock import italian_date
from cerniera.shared.contract import (
    AnswerValue,
    Assessment,
    Caregiver,
    DischargeAnnounced,
    Intensity,
    Patient,
    ServiceLine,
)
from cerniera.shared.refusals import Conflict, Invalid


class CaseStatus(StrEnum):
    """Where a case stands in intake."""

    AWAITING_ASSESSMENT = "awaiting_assessment"
    AWAITING_CONFIRMATION = "awaiting_confirmation"
    """Eligible by the rule: the team confirms the plan first (or the cap held it)."""
    AWAITING_CONSENT = "awaiting_consent"
    """Eligible and confirmed, but no consent recorded yet: nothing published."""
    ELIGIBLE = "eligible"
    """Confirmed and published."""
    NOT_ELIGIBLE = "not_eligible"
    CANCELLED = "cancelled"
    READMITTED = "readmitted"
    CLOSED = "closed"


WAITING = (
    CaseStatus.AWAITING_ASSESSMENT,
    CaseStatus.AWAITING_CONFIRMATION,
    CaseStatus.AWAITING_CONSENT,
)
ENDED = (CaseStatus.CANCELLED, CaseStatus.READMITTED, CaseStatus.CLOSED)
"""The team no longer changes these cases."""


@dataclass(frozen=True)
class AwaitingAssessment:
    ambito_id: str


Outcome = Decision | AwaitingAssessment


@dataclass(frozen=True)
class Case:
    """A case as intake keeps it: the announcement (personal data included) and the decision
    in force, with when it was taken."""

    case_id: str
    hospital_id: str
    discharge_ref: str
    ward: str
    ambito_id: str | None
    status: CaseStatus
    expected_discharge_at: datetime
    patient: Patient
    caregiver: Caregiver | None
    ward_assessment: Assessment | None
    """What the ward sent with the announcement (shown as version 0)."""
    decision: Decision | None
    decided_at: datetime | None
    correlation_id: str
    """The chain of the announcement: work with no event as its cause stays in it."""
    announced_at: datetime
    confirmed_by: str | None = None
    """Who confirmed the eligible decision in force: ``rule``, the operator, or none yet."""
    consent: Consent | None = None
    """The team's record of the consent (the ward's is in ``ward_assessment``)."""
    plan_version: int = 0
    """The version of the plan last published (0: no EligibilityConfirmed yet)."""
    plan_note: str | None = None
    """The operator's words for the services confirmed but not yet published (no consent)."""
    readmitted_at: datetime | None = None
    closed_at: datetime | None = None
    closed_outcome: str | None = None

    def with_outcome(
        self, outcome: Outcome, at: datetime, *, confirmed_by: str | None = RULE
    ) -> Case:
        """The case once ``outcome`` is known: the decision, who confirmed it (``None``: the
        team must), and where that leaves it (``standing``)."""
        decision = None if isinstance(outcome, AwaitingAssessment) else outcome
        confirmer = confirmed_by if isinstance(decision, Eligible) else None
        return replace(  # one copy of the case, not one per field changed
            self,
            decision=decision,
            decided_at=None if decision is None else at,
            confirmed_by=confirmer,
            status=self._standing(decision, confirmer),
        )

    def standing(self) -> CaseStatus:
        """Where the decision leaves the case: an eligible one is published only once
        confirmed and consented to."""
        return self._standing(self.decision, self.confirmed_by)

    def _standing(self, decision: Decision | None, confirmed_by: str | None) -> CaseStatus:
        """``standing`` of this case with ``decision``, confirmed by ``confirmed_by``."""
        if decision is None:
            return CaseStatus.AWAITING_ASSESSMENT
        if isinstance(decision, NotEligible):
            return CaseStatus.NOT_ELIGIBLE
        if confirmed_by is None:
            return CaseStatus.AWAITING_CONFIRMATION
        if not self.consented:
            return CaseStatus.AWAITING_CONSENT
        return CaseStatus.ELIGIBLE

    @property
    def consent_in_force(self) -> Consent | None:
        ward = self.ward_assessment.consent if self.ward_assessment else None
        return consent_of(self.consent, ward, self.announced_at)

    @property
    def consented(self) -> bool:
        consent = self.consent_in_force
        return consent is not None and consent.given

    @property
    def published_eligible(self) -> bool:
        """An EligibilityConfirmed is in force outside (the plan others count on)."""
        return self.status is CaseStatus.ELIGIBLE or (
            self.status in (CaseStatus.READMITTED, CaseStatus.CLOSED)
            and self.plan_version > 0
            and isinstance(self.decision, Eligible)
        )


@dataclass(frozen=True)
class AssessmentContent:
    """An assessment as filled in: the Phase-2 answers, BRASS score and notes, and the BRASS
    items when given. Two versions with equal contents are the same version."""

    assessment: Assessment
    brass_items: BrassItems | None = None

    @classmethod
    def filled(
        cls,
        answers: Mapping[str, AnswerValue],
        brass_score: int | None,
        brass_items: BrassItems | None,
        notes: str | None,
    ) -> AssessmentContent:
        """The team's assessment: with the BRASS items, the score is theirs."""
        score = brass.score(brass_items).score if brass_items else brass_score
        return cls(Assessment(answers=dict(answers), brass_score=score, notes=notes), brass_items)

    def brass_result(self, bands: tuple[int, int]) -> BrassResult | None:
        """The BRASS score of the items, with the district's bands (none without items)."""
        return brass.score(self.brass_items, *bands) if self.brass_items else None


@dataclass(frozen=True)
class AssessmentVersion:
    """One version of the team's assessment of a case (1, 2, …); the latest is in force."""

    version: int
    content: AssessmentContent
    assessed_by: str
    assessed_at: datetime


@dataclass(frozen=True)
class TakingCharge:
    """The information for taking the person in charge and the PAI draft, as the team wrote
    them: kept in intake, never interpreted, never published."""

    pai: Mapping[str, Any]
    information: Mapping[str, Any]


@dataclass(frozen=True)
class TakingChargeVersion:
    version: int
    content: TakingCharge
    recorded_by: str
    recorded_at: datetime


@dataclass(frozen=True)
class OverrideRecord:
    """One override of the rule by the team: who, when, why and what the rule said."""

    seq: int
    decision: Decision
    reason: str
    decided_by: str
    decided_at: datetime
    rule: Decision | None
    event_id: str | None
    """The decision event, or None when the decision in force already said so."""


def confirmer(ambito: Ambito | None) -> str | None:
    """Who confirms the rule's eligible result: the rule itself, or (``None``) the team."""
    return None if ambito is not None and ambito.team_decides else RULE


def assess_announcement(config: IntakeConfig, announcement: DischargeAnnounced) -> Outcome:
    """What a first announcement leads to: a decision, or a wait for the team's assessment."""
    municipality = announcement.patient.municipality_code
    ambito = config.ambito_for(municipality)
    if ambito is None:
        return NotEligible(
            reasons=[
                _reason(
                    "residence.outside_ambiti",
                    f"il comune {municipality} non appartiene ad alcun ambito servito",
                )
            ]
        )
    if announcement.assessment is None:
        return AwaitingAssessment(ambito_id=ambito.id)
    return decide(ambito, announcement.assessment)


def status_of(outcome: Outcome) -> CaseStatus:
    if isinstance(outcome, AwaitingAssessment):
        return CaseStatus.AWAITING_ASSESSMENT
    return CaseStatus.ELIGIBLE if isinstance(outcome, Eligible) else CaseStatus.NOT_ELIGIBLE


def new_case(
    announcement: DischargeAnnounced,
    outcome: Outcome,
    *,
    correlation_id: str,
    now: datetime,
    confirmed_by: str | None = RULE,
) -> Case:
    """The case a first announcement opens, with what it led to."""
    a = announcement
    return Case(
        case_id=a.case_id,
        hospital_id=a.hospital_id,
        discharge_ref=a.discharge_ref,
        ward=a.ward,
        ambito_id=outcome.ambito_id,
        status=CaseStatus.AWAITING_ASSESSMENT,
        expected_discharge_at=a.expected_discharge_at,
        patient=a.patient,
        caregiver=a.caregiver,
        ward_assessment=a.assessment,
        decision=None,
        decided_at=None,
        correlation_id=correlation_id,
        announced_at=now,
    ).with_outcome(outcome, now, confirmed_by=confirmed_by)


def reannounced(
    config: IntakeConfig, case: Case, announcement: DischargeAnnounced, now: datetime
) -> Case | None:
    """The same discharge announced again (a new event id): no second decision. The one thing
    it can bring is the assessment a waiting case lacked; None when it changes nothing."""
    if case.status is not CaseStatus.AWAITING_ASSESSMENT or announcement.assessment is None:
        return None
    outcome = assess_announcement(config, announcement)
    assessed = replace(
        case,
        expected_discharge_at=announcement.expected_discharge_at,
        ward_assessment=announcement.assessment,
    )
    ambito = config.ambiti.get(case.ambito_id) if case.ambito_id else None
    return assessed.with_outcome(outcome, now, confirmed_by=confirmer(ambito))


# --- the team: corrections and overrides ----------------------------------------------------


class ReassessmentOutcome(StrEnum):
    """What a (new) assessment did to the decision."""

    DECIDED = "decided"
    """The first decision of a case that was awaiting its assessment."""
    CORRECTED = "corrected"
    """The new answers change the decision in force: a new decision supersedes it."""
    UNCHANGED = "unchanged"
    """The new answers lead to the decision already in force: nothing to publish."""
    HELD_BY_OVERRIDE = "held_by_override"
    """The team overrode the rule for this case: the override stands, whatever the answers."""


@dataclass(frozen=True)
class Reassessment:
    rule: Decision
    """What the district's rule says of the new answers."""
    decision: Decision | None
    """The decision to publish, or None when the one in force stands."""
    outcome: ReassessmentOutcome


@dataclass(frozen=True)
class Override:
    decision: Decision
    publish: bool
    """False when the decision in force already says the same (eligibility and intensity)."""


class OverrideError(Conflict):
    """An override that the case cannot take (e.g. eligible without a district)."""

    def __init__(self, message: str) -> None:
        super().__init__("override.not_possible", message)


def ensure_open(case: Case) -> None:
    """The team works on a case until the hospital cancels the discharge, the person is
    readmitted before it was decided, or monitoring closes it."""
    if case.status is CaseStatus.CANCELLED:
        raise Conflict("case.cancelled", f"L'ospedale ha annullato la dimissione {case.case_id}.")
    if case.status is CaseStatus.READMITTED:
        raise Conflict(
            "case.readmitted",
            f"La persona del caso {case.case_id} è stata di nuovo ricoverata: il caso non "
            "cambia più (una nuova dimissione apre un nuovo caso).",
        )
    if case.status is CaseStatus.CLOSED:
        raise Conflict("case.closed", f"Il caso {case.case_id} è chiuso: non cambia più.")


def readmitted(case: Case, at: datetime) -> Case:
    """Back in hospital. Kept in every state; before the decision was published it ends the
    case (no confirmation is ever published for it: activation and monitoring read the
    readmission themselves); a closed or cancelled case keeps its status."""
    if case.status in (CaseStatus.CLOSED, CaseStatus.CANCELLED):
        return replace(case, readmitted_at=at)
    return replace(case, readmitted_at=at, status=CaseStatus.READMITTED)


def closed(case: Case, at: datetime, outcome: str) -> Case:
    """Monitoring closed the case: the team's changes end here."""
    return replace(case, status=CaseStatus.CLOSED, closed_at=at, closed_outcome=outcome)


def confirmed(case: Case, decided_by: str, services: list[ServiceLine] | None) -> Case | None:
    """The team confirms the eligible decision in force (a proposal, or one already
    confirmed by the rule and waiting for consent), the services tailored if it says so;
    the team is then who decided. None when it is published already and stays as it is (the
    same confirmation again); refused without an eligible decision, and for a published one
    with other services (that is a revision of the plan)."""
    decision = case.decision
    if not isinstance(decision, Eligible):
        raise Conflict(
            "case.not_eligible",
            f"Il caso {case.case_id} non ha una proposta di idoneità da confermare "
            f"({describe(decision)}).",
        )
    if case.status is CaseStatus.ELIGIBLE:
        if services is None or same_services(services, decision.services):
            return None
        raise Conflict(
            "case.already_confirmed",
            f"Il piano del caso {case.case_id} è già confermato e in vigore: lo si cambia "
            "con una revisione del piano (PUT /cases/{case_id}/plan).",
        )
    why = [_reason("confirmed.team", CONFIRMED_TEXT)]
    if services is not None and not same_services(services, decision.services):
        why.append(plan_reason(PlanReason.TAILORED))
    else:
        services = decision.services
    rule_reasons = [r for r in decision.reasons if r.code != "confirmed.team"]
    team = replace(decision, services=services, decided_by=decided_by, reasons=why + rule_reasons)
    done = replace(case, decision=team, confirmed_by=decided_by)
    return replace(done, status=done.standing())


def with_consent(case: Case, consent: Consent) -> Case:
    """The team's record of the consent, and where it leaves a case not yet published."""
    recorded = replace(case, consent=consent)
    if case.status in (CaseStatus.AWAITING_CONFIRMATION, CaseStatus.AWAITING_CONSENT):
        return replace(recorded, status=recorded.standing())
    return recorded


def held_by_cap(case: Case) -> Case:
    """An eligible decision the rule would authorise beyond the person's cap: the team
    decides (a plan with fewer hours, or the administrator's exception)."""
    return replace(case, confirmed_by=None, status=CaseStatus.AWAITING_CONFIRMATION)


def checklist_of(ambito: Ambito | None, case_id: str, answers: Mapping[str, object]) -> Ambito:
    """The district whose checklist the team's answers are for. Refused for a case outside
    every district (no checklist), and for answers to requirements the checklist lacks."""
    if ambito is None:
        raise Conflict(
            "case.no_district",
            f"La residenza della persona non è in alcun ambito servito ({case_id}): non c'è una "
            "lista di controllo con cui valutarla.",
        )
    unknown = unknown_requirements(ambito.phase2, answers)
    if unknown:
        raise Invalid(
            "assessment.unknown_requirements",
            f"non nella lista di controllo di {ambito.id}: {', '.join(unknown)} (ha "
            f"{', '.join(ambito.phase2.requirements)})",
        )
    return ambito


def reassess(
    ambito: Ambito,
    assessment: Assessment,
    in_force: Decision | None,
    *,
    overridden: bool,
    version: int,
    assessed_by: str,
    brass: BrassResult | None = None,
) -> Reassessment:
    """The team's (new) answers for a case: decide a waiting case; for a decided one, publish
    a new decision only if the answers change it, unless the team has overridden the rule."""
    rule = decide(ambito, assessment, brass)
    if in_force is None:
        return Reassessment(rule, rule, ReassessmentOutcome.DECIDED)
    if overridden:
        return Reassessment(rule, None, ReassessmentOutcome.HELD_BY_OVERRIDE)
    if same_decision(in_force, rule):
        return Reassessment(rule, None, ReassessmentOutcome.UNCHANGED)
    why = _reason(
        "assessment.corrected",
        f"la valutazione versione {version} di {assessed_by} cambia la decisione da "
        f"«{describe(in_force)}» a «{describe(rule)}»: questa decisione sostituisce la precedente",
    )
    corrected = replace(rule, reasons=[why, *rule.reasons])
    return Reassessment(rule, corrected, ReassessmentOutcome.CORRECTED)


def rule_says(
    ambito: Ambito | None,
    assessment: Assessment | None,
    brass: BrassResult | None = None,
    *,
    stored: Decision | None = None,
) -> Decision | None:
    """What the district's rule says of a case now: the Phase-2 rule on its current answers;
    for a case outside every district, the rejection the rule gave it on arrival (``stored``);
    None while no assessment has arrived."""
    if ambito is None:
        return stored if stored is not None and stored.decided_by == RULE else None
    if assessment is None:
        return None
    return decide(ambito, assessment, brass)


OVERRIDE_TEXT = "Decisione dell'équipe in deroga alla regola del distretto."
"""The published text of ``override.team``: fixed, whatever reason the operator gave."""


def override(
    ambito: Ambito | None,
    *,
    eligible: bool,
    intensity: Intensity | None,
    decided_by: str,
    in_force: Decision | None,
    rule: Decision | None,
) -> Override:
    """The team's decision instead of the rule's, ``override.team`` first in its reasons and the
    rule's own evaluation after them for the record (codes prefixed ``rule.``). Published only
    if it changes the decision in force. The operator's reason is not an input: it is kept
    with the override record (``OverrideRecord``), never published."""
    if not eligible and intensity is not None:
        raise OverrideError("una decisione di non idoneità non ha intensità")
    # Free text may hold clinical detail: the event says who (``decided_by``) and this code.
    who = _reason("override.team", OVERRIDE_TEXT)
    record = [
        _reason("override.rule_decision", f"la regola dell'ambito: {describe(rule)}"),
        *(_reason(f"rule.{r.code}", r.text) for r in (rule.reasons if rule else [])),
    ]
    decision: Decision
    if eligible:
        if ambito is None:
            raise OverrideError(
                "il caso non appartiene ad alcun ambito servito: non c'è un pacchetto da concedere"
            )
        if intensity is None:
            raise OverrideError("una decisione di idoneità richiede l'intensità")
        decision = Eligible(
            ambito_id=ambito.id,
            intensity=intensity,
            services=package(ambito, intensity),
            reasons=[
                who,
                _reason("intensity.team", f"intensità {ITALIAN[intensity]} scelta da {decided_by}"),
                *record,
            ],
            decided_by=decided_by,
        )
    else:
        decision = NotEligible(
            reasons=[who, *record],
            ambito_id=ambito.id if ambito else None,
            decided_by=decided_by,
        )
    return Override(decision, publish=in_force is None or not same_decision(in_force, decision))


class _Version(Protocol):
    @property
    def version(self) -> int: ...
    @property
    def content(self) -> object: ...


def new_version(history: Sequence[_Version], content: object) -> int | None:
    """The number of the version ``content`` makes (1, 2, …), or None when it is what the
    latest version already says: the same content sent again makes no new version."""
    if not history:
        return 1
    latest = history[-1]
    return None if latest.content == content else latest.version + 1


def assessment_in_force(
    case: Case, versions: Sequence[AssessmentVersion]
) -> AssessmentContent | None:
    """The team's latest version, else the ward's, else none yet."""
    if versions:
        return versions[-1].content
    if case.ward_assessment is not None:
        return AssessmentContent(case.ward_assessment)
    return None


def brass_bands(ambito: Ambito | None) -> tuple[int, int]:
    """The district's BRASS bands (the highest low and medium scores), else the usual ones."""
    if ambito is None:
        return brass.LOW_MAX, brass.MEDIUM_MAX
    return ambito.intensity.brass_low_max, ambito.intensity.brass_medium_max


def days_waiting(status: CaseStatus, announced_at: datetime, today: date) -> int | None:
    """Days since the announcement (Italian calendar) of a case waiting for its assessment,
    the team's confirmation or the consent."""
    if status not in WAITING:
        return None
    return (today - italian_date(announced_at)).days
