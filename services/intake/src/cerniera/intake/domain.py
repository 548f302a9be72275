"""Intake's rules, pure: no I/O, so every rule is tested on its own.

A case moves from the ward's announcement to a decision:
``awaiting_assessment`` (no Phase-2 answers yet) → ``eligible`` | ``not_eligible``;
the hospital may cancel it at any point before or after (``cancelled``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

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


def intensity_for(rule: IntensityRule, brass_score: int | None) -> tuple[Intensity, Reason]:
    """Intensity from the BRASS band when a score is given, else the district's default."""
    if brass_score is None:
        return rule.default, _reason(
            "intensity.default", f"no BRASS score: district default '{rule.default}'"
        )
    if brass_score <= rule.brass_low_max:
        band = Intensity.LOW
    elif brass_score <= rule.brass_medium_max:
        band = Intensity.MEDIUM
    else:
        band = Intensity.HIGH
    return band, _reason("intensity.brass", f"BRASS {brass_score}: {band} risk band")


def package(ambito: Ambito, intensity: Intensity) -> list[ServiceLine]:
    return [
        ServiceLine(service_type=service, weekly_quantity=quantity)
        for service, quantity in ambito.packages[intensity].items()
    ]


def decide(ambito: Ambito, assessment: Assessment) -> Decision:
    """Apply the district's Phase-2 rule and, when met, choose the package."""
    phase2 = evaluate_phase2(ambito.phase2, assessment.answers)
    if not phase2.met:
        return NotEligible(reasons=phase2.reasons, ambito_id=ambito.id)
    intensity, why = intensity_for(ambito.intensity, assessment.brass_score)
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


def _answer(answers: Mapping[str, AnswerValue], requirement: str) -> str:
    value = answers.get(requirement)
    return value.value if value is not None else "unanswered"


def _reason(code: str, text: str) -> Reason:
    return Reason(code=code, text=text)
