"""The district's eligibility rule, pure: the Phase-2 checklist, the intensity from BRASS and
the package of services; the decisions it makes, and what is published of them.

``domain`` applies it to a case (on its announcement, at the team's assessment) and records the
team's overrides of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from cerniera.intake.brass import BrassResult, band_of, describe_drivers
from cerniera.intake.config import Ambito, IntensityRule, Phase2Rule
from cerniera.shared.contract import (
    AnswerValue,
    Assessment,
    EligibilityConfirmed,
    EligibilityRejected,
    Intensity,
    Reason,
    ServiceLine,
)

RULE = "rule"  # ``decided_by`` when the district's rule decided, not an operator

ITALIAN: dict[str, str] = {
    Intensity.LOW: "bassa",
    Intensity.MEDIUM: "media",
    Intensity.HIGH: "alta",
    AnswerValue.YES: "Sì",
    AnswerValue.PARTIAL: "Parzialmente",
    AnswerValue.NO: "No",
}
"""What the team and the ward read for the machine values in a reason's text."""


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


Decision = Eligible | NotEligible


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
    if primary_ok:
        reasons.append(reason("phase2.primary_met", f"«Sì» per {', '.join(primary_yes)}"))
    else:
        primary_seen = ", ".join(f"{r}={_answer(answers, r)}" for r in rule.primary)
        reasons.append(
            reason(
                "phase2.primary_not_met",
                f"servono almeno {rule.min_primary_yes} «Sì» tra {', '.join(rule.primary)}; "
                f"risposte: {primary_seen}",
            )
        )
    others_text = (
        f"{len(others_met)} su {len(rule.others)} altri requisiti con «Sì» o «Parzialmente»"
        f" ({', '.join(others_met) or 'nessuno'}); ne servono {rule.min_other_yes_or_partial}"
    )
    reasons.append(
        reason("phase2.others_met" if others_ok else "phase2.others_not_met", others_text)
    )
    unanswered = [r for r in rule.requirements if r not in answers]
    if unanswered:
        reasons.append(
            reason("phase2.unanswered", f"senza risposta (contati «No»): {', '.join(unanswered)}")
        )
    return Phase2Result(met=primary_ok and others_ok, reasons=reasons)


def intensity_for(
    rule: IntensityRule, brass_score: int | None, brass: BrassResult | None = None
) -> tuple[Intensity, Reason]:
    """Intensity from the BRASS band when a score is given, else the district's default. With
    the BRASS items (``brass``), the reason names the items that drove the score."""
    if brass_score is None:
        return rule.default, reason(
            "intensity.default",
            f"nessun punteggio BRASS: intensità predefinita dell'ambito, {ITALIAN[rule.default]}",
        )
    band = Intensity(band_of(brass_score, rule.brass_low_max, rule.brass_medium_max).value)
    text = f"BRASS {brass_score}: fascia di rischio {ITALIAN[band]}"
    if brass is not None and brass.drivers:
        text += f" (determinata da {describe_drivers(brass)})"
    return band, reason("intensity.brass", text)


def package(ambito: Ambito, intensity: Intensity) -> list[ServiceLine]:
    return list(ambito.package_lines[intensity])


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
        return "nessuna decisione (manca la valutazione)"
    if isinstance(decision, Eligible):
        return f"idoneo, intensità {ITALIAN[decision.intensity]}"
    return "non idoneo"


def decision_event(
    case_id: str,
    expected_discharge_at: datetime,
    decision: Decision,
    *,
    person_ref: str | None = None,
    plan_version: int = 1,
) -> EligibilityConfirmed | EligibilityRejected:
    """What is published of a decision: the decision and why, never the person (only the
    pseudonym per-person limits are counted on, and the version of the plan)."""
    if isinstance(decision, Eligible):
        # Field by field, not ``asdict``: that deep-copies every service and reason, which
        # the event validates (and copies into its own lists) anyway.
        return EligibilityConfirmed(
            case_id=case_id,
            ambito_id=decision.ambito_id,
            intensity=decision.intensity,
            services=decision.services,
            expected_discharge_at=expected_discharge_at,
            decided_by=decision.decided_by,
            reasons=decision.reasons,
            person_ref=person_ref,
            plan_version=plan_version,
        )
    return EligibilityRejected(
        case_id=case_id, reasons=decision.reasons, decided_by=decision.decided_by
    )


def _answer(answers: Mapping[str, AnswerValue], requirement: str) -> str:
    value = answers.get(requirement)
    return ITALIAN[value] if value is not None else "senza risposta"


def reason(code: str, text: str) -> Reason:
    """A reason of a decision: a stable code and its text."""
    return Reason(code=code, text=text)
