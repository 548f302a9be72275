"""The demo's report, computed from the events alone (plus billing's budget position), so a
reader can check every number against ``events.jsonl``."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from cerniera.shared import contract
from cerniera.shared.clock import italian_date
from cerniera.shared.envelope import Envelope


@dataclass
class Report:
    announced: int = 0
    confirmed_by_intensity: Counter[str] = field(default_factory=Counter)
    rejected_by_reason: Counter[str] = field(default_factory=Counter)
    cancelled: int = 0
    rescheduled: int = 0
    readmitted: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    still_open: int = 0
    requests: int = 0
    declines_by_reason: Counter[str] = field(default_factory=Counter)
    escalations_by_reason: Counter[str] = field(default_factory=Counter)
    lead_days: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    cases_ready_by_discharge: int = 0
    cases_going_home: int = 0
    checks: int = 0
    delivered: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    dead_letters: int = 0
    budget: list[dict[str, Any]] = field(default_factory=list)
    decided_by_team: int = 0
    """Plans confirmed by an operator of the team (the rest by the district's rule)."""
    plan_revisions: Counter[str] = field(default_factory=Counter)
    """Tailored plans (``PlanRevised``) by reason code."""
    resolutions: Counter[str] = field(default_factory=Counter)
    postponements: int = 0
    network_tasks_opened: int = 0
    network_outcomes: Counter[str] = field(default_factory=Counter)
    hand_overs: int = 0
    continuing_services: Counter[str] = field(default_factory=Counter)
    district: dict[str, Any] = field(default_factory=dict)
    """What the services report of the districts: decisions (intake), outcome indicators
    (monitoring), beneficiaries against the target (billing), per district."""

    @property
    def confirmed(self) -> int:
        return sum(self.confirmed_by_intensity.values())

    @property
    def rejected(self) -> int:
        return sum(self.rejected_by_reason.values())

    @property
    def ready_share(self) -> float:
        return (
            self.cases_ready_by_discharge / self.cases_going_home if self.cases_going_home else 0.0
        )


def build_report(
    events: Iterable[tuple[str, Envelope]],
    dead_letters: int = 0,
    budget: list[dict[str, Any]] | None = None,
) -> Report:
    """``events``: (topic, event) in the order they were read."""
    report = Report(dead_letters=dead_letters, budget=budget or [])
    discharge_on: dict[str, date] = {}
    confirmed_at: dict[str, datetime] = {}
    package: dict[str, set[str]] = {}
    cancelled: set[str] = set()
    readmitted_before_discharge: set[str] = set()
    active_from: dict[tuple[str, str], date] = {}
    announced: set[str] = set()
    for _topic, event in events:
        data = event.data
        if isinstance(data, contract.DischargeAnnounced):
            announced.add(data.case_id)
            discharge_on.setdefault(data.case_id, italian_date(data.expected_discharge_at))
        elif isinstance(data, contract.DischargeRescheduled):
            report.rescheduled += 1
            discharge_on[data.case_id] = italian_date(data.expected_discharge_at)
        elif isinstance(data, contract.DischargeCancelled):
            report.cancelled += 1
            cancelled.add(data.case_id)
        elif isinstance(data, contract.PatientReadmitted):
            report.readmitted += 1
            if (
                data.case_id in discharge_on
                and data.readmitted_at.date() < discharge_on[data.case_id]
            ):
                readmitted_before_discharge.add(data.case_id)
        elif isinstance(data, contract.EligibilityConfirmed):
            report.confirmed_by_intensity[data.intensity.value] += 1
            report.decided_by_team += data.decided_by != "rule"
            if any(r.code == "plan.tailored" for r in data.reasons):
                report.plan_revisions["plan.tailored (at confirmation)"] += 1
            confirmed_at[data.case_id] = event.time
            package[data.case_id] = {line.service_type.value for line in data.services}
        elif isinstance(data, contract.EligibilityRejected):
            report.rejected_by_reason[_main_reason(data)] += 1
        elif isinstance(data, contract.ServiceActivationRequested):
            report.requests += 1
        elif isinstance(data, contract.ServiceActivationDeclined):
            report.declines_by_reason[data.reason_code.value] += 1
        elif isinstance(data, contract.ServiceActivationEscalated):
            report.escalations_by_reason[data.reason.value] += 1
        elif isinstance(data, contract.ServiceActivated):
            key = (data.case_id, data.service_type.value)
            if key not in active_from:
                active_from[key] = data.active_from
                if data.case_id in confirmed_at:
                    days = (event.time - confirmed_at[data.case_id]) / timedelta(days=1)
                    report.lead_days[data.service_type.value].append(days)
        elif isinstance(data, contract.WeeklyCheckDone):
            report.checks += 1
        elif isinstance(data, contract.HoursDelivered):
            report.delivered[data.service_type.value] += float(data.quantity)
        elif isinstance(data, contract.CaseClosed):
            report.outcomes[data.outcome.value] += 1
        elif isinstance(data, contract.PlanRevised):
            report.plan_revisions[data.reason.code] += 1
        elif isinstance(data, contract.EscalationResolved):
            report.resolutions[data.resolution.value] += 1
        elif isinstance(data, contract.DischargePostponementRequested):
            report.postponements += 1
        elif isinstance(data, contract.NetworkTaskOpened):
            report.network_tasks_opened += 1
        elif isinstance(data, contract.NetworkTaskCompleted):
            report.network_outcomes[data.outcome.value] += 1
        elif isinstance(data, contract.CaseHandedOver):
            report.hand_overs += 1
            report.continuing_services.update(s.value for s in data.continuing)
    report.announced = len(announced)
    going_home = [c for c in package if c not in cancelled and c not in readmitted_before_discharge]
    report.cases_going_home = len(going_home)
    report.cases_ready_by_discharge = sum(
        1
        for case in going_home
        if all(
            (case, service) in active_from and active_from[(case, service)] <= discharge_on[case]
            for service in package[case]
        )
    )
    report.still_open = max(
        0, report.confirmed - sum(report.outcomes.values()) - len(cancelled & set(package))
    )
    return report


def _main_reason(data: contract.EligibilityRejected) -> str:
    failing = [
        r.code for r in data.reasons if r.code.endswith("not_met") or r.code.startswith("residence")
    ]
    return failing[0] if failing else data.reasons[0].code


def render_markdown(report: Report, period: str) -> str:
    lines = [f"# Cerniera demo — {period}", ""]
    lines += [
        "## Cases",
        "",
        f"- announced by the wards: {report.announced} "
        f"({report.rescheduled} reschedules, {report.cancelled} cancellations, "
        f"{report.readmitted} readmissions)",
        f"- eligible: {report.confirmed} "
        + _counts(report.confirmed_by_intensity, ("low", "medium", "high")),
        f"- not eligible: {report.rejected} " + _counts(report.rejected_by_reason),
        "",
        "| outcome | cases |",
        "| --- | ---: |",
    ]
    lines += [f"| {outcome} | {n} |" for outcome, n in report.outcomes.most_common()]
    if report.still_open:
        lines.append(f"| still open | {report.still_open} |")
    lines += [
        "",
        "## Activation",
        "",
        f"- requests to providers: {report.requests}; declined: "
        f"{sum(report.declines_by_reason.values())} " + _counts(report.declines_by_reason),
        f"- escalated to the team: {sum(report.escalations_by_reason.values())} "
        + _counts(report.escalations_by_reason),
        f"- **every service active by discharge: {report.cases_ready_by_discharge} of "
        f"{report.cases_going_home} cases going home ({report.ready_share:.0%})**",
        "",
        "Lead time: days from the eligibility decision to the provider's confirmation "
        "(`ServiceActivated`).",
        "",
        "| service | activations | median lead (days) | 90th percentile (days) |",
        "| --- | ---: | ---: | ---: |",
    ]
    for service, days in sorted(report.lead_days.items()):
        lines.append(
            f"| {service} | {len(days)} | {statistics.median(days):.1f} | {_p90(days):.1f} |"
        )
    lines += [
        "",
        "## Follow-up and delivery",
        "",
        f"- weekly checks recorded: {report.checks}",
        f"- delivered: SAD {report.delivered.get('sad', 0):.1f} h, "
        f"meals {report.delivered.get('meals', 0):.0f}, "
        f"teleassistance {report.delivered.get('teleassistance', 0):.0f} days",
        f"- records dead-lettered: {report.dead_letters}",
        "",
        "## The team's decisions",
        "",
        f"- plans confirmed by the team: {report.decided_by_team}; by the district's rule: "
        f"{report.confirmed - report.decided_by_team}",
        f"- tailored plans: {sum(report.plan_revisions.values())} "
        + _counts(report.plan_revisions),
        f"- escalations resolved: {sum(report.resolutions.values())} "
        + _counts(report.resolutions)
        + f"; postponements asked of the wards: {report.postponements}",
        f"- territorial-network tasks (no caregiver): {report.network_tasks_opened} opened, "
        f"{sum(report.network_outcomes.values())} answered " + _counts(report.network_outcomes),
        f"- handed over to the municipality: {report.hand_overs}, services going on "
        + _counts(report.continuing_services),
    ]
    lines += _district_lines(report.district)
    lines += [
        "",
        "## Spending against budget",
        "",
        "| district | funding source | budget € | spent € | remaining € | spent | beneficiaries |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in report.budget:
        lines.append(
            f"| {row.get('ambito_id', '')} | {row.get('funding_source', '')} | "
            f"{row.get('amount', '')} | {row.get('spent', '')} | {row.get('remaining', '')} | "
            f"{row.get('percent_spent', '')}% | {row.get('beneficiaries', '')} |"
        )
    unfunded = [r for r in report.budget if r.get("district_unfunded") not in (None, "0.00")]
    for row in {r["ambito_id"]: r for r in unfunded}.values():
        lines.append(
            f"\n{row['ambito_id']}: {row['district_unfunded']} € delivered beyond every "
            "funding source (budget.exhausted), for the district to decide."
        )
    return "\n".join(lines) + "\n"


def _district_lines(district: Mapping[str, Any]) -> list[str]:
    """What the services themselves report, per district (fetched by the demo over HTTP)."""
    lines: list[str] = []
    for ambito_id, figures in sorted(district.items()):
        lines += ["", f"### {ambito_id}", ""]
        lines += [f"- {label}: {value}" for label, value in figures.items()]
    return lines


def _counts(counter: Mapping[str, int], order: tuple[str, ...] | None = None) -> str:
    keys = order or tuple(k for k, _ in Counter(counter).most_common())
    parts = [f"{k} {counter[k]}" for k in keys if counter.get(k)]
    return f"({', '.join(parts)})" if parts else ""


def _p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
