"""Intake's rules, pure: no I/O, so every rule is tested on its own.

A case moves from the ward's announcement to a decision:
``awaiting_assessment`` (no Phase-2 answers yet) → ``eligible`` | ``not_eligible``;
the hospital may cancel it at any point before or after (``cancelled``).

The team (équipe: the district's social and health operators) may then correct the answers
(``reassess``) or override the rule (``override``). Either can publish a new decision for the
same case: the later decision event for a case id supersedes the earlier one, and its reasons
say why (``assessment.corrected``, ``override.team``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from cerniera.intake.brass import BrassResult, band_of, describe_drivers
from cerniera.intake.config import Ambito, IntakeConfig, IntensityRule, Phase2Rule
from cerniera.shared.contract import (
    AnswerValue,
    Assessment,
    DischargeAnnounced,
    Intensity,
    Reason,
    ServiceLine,
)

RULE = "rule"  # ``decided_by`` when the district's rule decided, not an operator


class CaseStatus(StrEnum):
    """Where a case stands in intake."""

    AWAITING_ASSESSMENT = "awaiting_assessment"
    ELIGIBLE = "eligible"
    NOT_ELIGIBLE = "not_eligible"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Eligible:
    ambito_id: str
    intensity: Intensity
    services: list[ServiceLine]
    reasons: list[Reason]
    decided_by: str = RULE


@dataclass(frozen=True)
class NotEligible:
    reasons: list[Reason]
    ambito_id: str | None = None
    decided_by: str = RULE


@dataclass(frozen=True)
class AwaitingAssessment:
    ambito_id: str


Decision = Eligible | NotEligible
Outcome = Decision | AwaitingAssessment


@dataclass(frozen=True)
class Phase2Result:
    met: bool
    reasons: list[Reason]


def evaluate_phase2(rule: Phase2Rule, answers: Mapping[str, AnswerValue]) -> Phase2Result:
    """The district's Phase-2 rule. An unanswered requirement counts as not met."""
    primary_yes = [r for r in rule.primary if answers.get(r) is AnswerValue.YES]
    others_met = [
        r for r in rule.others if answers.get(r) in (AnswerValue.YES, AnswerValue.PARTIAL)
    ]
    reasons: list[Reason] = []
    primary_ok = len(primary_yes) >= rule.min_primary_yes
    others_ok = len(others_met) >= rule.min_other_yes_or_partial
    primary_seen = ", ".join(f"{r}={_answer(answers, r)}" for r in rule.primary)
    if primary_ok:
        reasons.append(_reason("phase2.primary_met", f"'yes' for {', '.join(primary_yes)}"))
    else:
        reasons.append(
            _reason(
                "phase2.primary_not_met",
                f"needs {rule.min_primary_yes} 'yes' among {', '.join(rule.primary)}; "
                f"got {primary_seen}",
            )
        )
    others_text = (
        f"{len(others_met)} of {len(rule.others)} other requirements 'yes' or 'partial'"
        f" ({', '.join(others_met) or 'none'}); {rule.min_other_yes_or_partial} needed"
    )
    reasons.append(
        _reason("phase2.others_met" if others_ok else "phase2.others_not_met", others_text)
    )
    unanswered = [r for r in rule.requirements if r not in answers]
    if unanswered:
        reasons.append(
            _reason("phase2.unanswered", f"not answered (counted as 'no'): {', '.join(unanswered)}")
        )
    return Phase2Result(met=primary_ok and others_ok, reasons=reasons)


def intensity_for(
    rule: IntensityRule, brass_score: int | None, brass: BrassResult | None = None
) -> tuple[Intensity, Reason]:
    """Intensity from the BRASS band when a score is given, else the district's default. With
    the BRASS items (``brass``), the reason names the items that drove the score."""
    if brass_score is None:
        return rule.default, _reason(
            "intensity.default", f"no BRASS score: district default '{rule.default}'"
        )
    band = Intensity(band_of(brass_score, rule.brass_low_max, rule.brass_medium_max).value)
    text = f"BRASS {brass_score}: {band} risk band"
    if brass is not None and brass.drivers:
        text += f" (driven by {describe_drivers(brass)})"
    return band, _reason("intensity.brass", text)


def package(ambito: Ambito, intensity: Intensity) -> list[ServiceLine]:
    return [
        ServiceLine(service_type=service, weekly_quantity=quantity)
        for service, quantity in ambito.packages[intensity].items()
    ]


def decide(ambito: Ambito, assessment: Assessment, brass: BrassResult | None = None) -> Decision:
    """Apply the district's Phase-2 rule and, when met, choose the package."""
    phase2 = evaluate_phase2(ambito.phase2, assessment.answers)
    if not phase2.met:
        return NotEligible(reasons=phase2.reasons, ambito_id=ambito.id)
    intensity, why = intensity_for(ambito.intensity, assessment.brass_score, brass)
    return Eligible(
        ambito_id=ambito.id,
        intensity=intensity,
        services=package(ambito, intensity),
        reasons=[*phase2.reasons, why],
    )


def assess_announcement(config: IntakeConfig, announcement: DischargeAnnounced) -> Outcome:
    """What a first announcement leads to: a decision, or a wait for the team's assessment."""
    municipality = announcement.patient.municipality_code
    ambito = config.ambito_for(municipality)
    if ambito is None:
        return NotEligible(
            reasons=[
                _reason(
                    "residence.outside_ambiti",
                    f"municipality {municipality} belongs to no district served here",
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


class OverrideError(ValueError):
    """An override that the case cannot take (e.g. eligible without a district)."""


def unknown_requirements(rule: Phase2Rule, answers: Mapping[str, object]) -> list[str]:
    """The answered requirement ids that the district's checklist does not have."""
    return [r for r in answers if r not in rule.requirements]


def same_decision(a: Decision, b: Decision) -> bool:
    """Whether two decisions tell the outside the same: eligibility and intensity (the package
    follows from the intensity)."""
    if isinstance(a, Eligible) and isinstance(b, Eligible):
        return a.intensity is b.intensity
    return isinstance(a, NotEligible) and isinstance(b, NotEligible)


def describe(decision: Decision | None) -> str:
    if decision is None:
        return "no decision yet (no assessment)"
    if isinstance(decision, Eligible):
        return f"eligible, {decision.intensity} intensity"
    return "not eligible"


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
        f"assessment version {version} by {assessed_by} changes the decision from "
        f"'{describe(in_force)}' to '{describe(rule)}': this decision supersedes the earlier one",
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


def override(
    ambito: Ambito | None,
    *,
    eligible: bool,
    intensity: Intensity | None,
    reason: str,
    decided_by: str,
    in_force: Decision | None,
    rule: Decision | None,
) -> Override:
    """The team's decision instead of the rule's, with who and why first in its reasons and the
    rule's own evaluation after them for the record (codes prefixed ``rule.``). Published only
    if it changes the decision in force."""
    if not eligible and intensity is not None:
        raise OverrideError("a not eligible decision has no intensity")
    who = _reason(
        "override.team", f"decided by {decided_by}, overriding the district rule: {reason}"
    )
    record = [
        _reason("override.rule_decision", f"the district rule: {describe(rule)}"),
        *(_reason(f"rule.{r.code}", r.text) for r in (rule.reasons if rule else [])),
    ]
    decision: Decision
    if eligible:
        if ambito is None:
            raise OverrideError(
                "the case belongs to no district served here: there is no package to grant"
            )
        if intensity is None:
            raise OverrideError("an eligible decision needs its intensity")
        decision = Eligible(
            ambito_id=ambito.id,
            intensity=intensity,
            services=package(ambito, intensity),
            reasons=[
                who,
                _reason("intensity.team", f"intensity '{intensity}' chosen by {decided_by}"),
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


def decision_record(decision: Decision, decided_at: datetime | None = None) -> dict[str, Any]:
    """A decision as stored with its case (JSON): what was published, who decided and why."""
    record: dict[str, Any] = {
        "decided_by": decision.decided_by,
        "reasons": [r.model_dump(mode="json") for r in decision.reasons],
    }
    if decided_at is not None:
        record["decided_at"] = decided_at.isoformat()
    if isinstance(decision, Eligible):
        record["intensity"] = decision.intensity.value
        record["services"] = [s.model_dump(mode="json") for s in decision.services]
    return record


def decision_from_record(
    record: Mapping[str, Any] | None, ambito_id: str | None
) -> Decision | None:
    """The decision stored by ``decision_record``, back."""
    if record is None:
        return None
    reasons = [Reason.model_validate(r) for r in record["reasons"]]
    decided_by = str(record["decided_by"])
    if "intensity" not in record:
        return NotEligible(reasons=reasons, ambito_id=ambito_id, decided_by=decided_by)
    if ambito_id is None:
        raise ValueError("an eligible decision always has its district")
    return Eligible(
        ambito_id=ambito_id,
        intensity=Intensity(record["intensity"]),
        services=[ServiceLine.model_validate(s) for s in record["services"]],
        reasons=reasons,
        decided_by=decided_by,
    )


def _answer(answers: Mapping[str, AnswerValue], requirement: str) -> str:
    value = answers.get(requirement)
    return value.value if value is not None else "unanswered"


def _reason(code: str, text: str) -> Reason:
    return Reason(code=code, text=text)
