"""The verdict of a chaos run, from the topics and the databases, in four figures:

- **lost**: an effect the inputs call for that is missing (a decision, a request, an
  activation, a check, a closure, a deactivation, a billing line), or a case in another end
  state than its inputs call for (rejected instead of eligible, escalated, closed with another
  outcome);
- **duplicated effects**: a business key with more than one event id for what must happen once
  (a decision per case, a request, activation and deactivation per ``request_id``, a check per
  case and week, a closure per case, a threshold per budget), more than one request per
  service of a case, or more than one billing line per ``delivery_ref``;
- **good events dead-lettered**: every record on a ``.dlq`` topic (the run sends only good
  events);
- **stuck**: a consumer group partition not read to its end, a parked case or record, an
  outbox row not published, a delivery line still waiting for its case.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

import asyncpg
from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from cerniera.cli.chaos.observe import Observed
from cerniera.cli.chaos.scenario import FOLLOW_UP_DAYS, WEEKS, CasePlan, Kind
from cerniera.shared.settings import KafkaSettings

SCHEMAS = ("intake", "activation", "monitoring", "billing")

Figure = Literal["lost", "duplicated", "dead-lettered", "stuck"]


@dataclass(frozen=True)
class Finding:
    figure: Figure
    what: str


@dataclass
class Verdict:
    findings: list[Finding] = field(default_factory=list)
    checked: dict[str, int] = field(default_factory=dict)
    """What was looked at: so that four zeros cannot come from looking at nothing."""

    def summary(self) -> str:
        return ", ".join(f"{what} {n}" for what, n in self.checked.items())

    def add(self, figure: Figure, what: str) -> None:
        self.findings.append(Finding(figure, what))

    def count(self, figure: Figure) -> int:
        return sum(1 for f in self.findings if f.figure == figure)

    @property
    def lost(self) -> int:
        return self.count("lost")

    @property
    def duplicated(self) -> int:
        return self.count("duplicated")

    @property
    def dead_lettered(self) -> int:
        return self.count("dead-lettered")

    @property
    def stuck(self) -> int:
        return self.count("stuck")

    @property
    def clean(self) -> bool:
        return not self.findings

    def line(self) -> str:
        return (
            f"lost {self.lost}, duplicated effects {self.duplicated}, "
            f"good events dead-lettered {self.dead_lettered}, stuck {self.stuck}"
        )


# --- what the databases hold -------------------------------------------------------------------


@dataclass
class Snapshot:
    intake: dict[str, str] = field(default_factory=dict)
    """Case -> status."""
    activation_cases: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    """Case -> (status, end reason)."""
    activation_requests: defaultdict[str, list[tuple[str, str]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    """Case -> [(service type, status)]."""
    followups: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    """Case -> (status, outcome)."""
    checks: Counter[tuple[str, int]] = field(default_factory=Counter)
    billing_cases: dict[str, tuple[str, bool]] = field(default_factory=dict)
    """Case -> (status, closed)."""
    lines: Counter[tuple[str, str]] = field(default_factory=Counter)
    """(provider, delivery_ref) -> rows that count (not ``duplicate``)."""
    line_status: Counter[str] = field(default_factory=Counter)
    pending_lines: list[str] = field(default_factory=list)
    thresholds: set[tuple[str, str, int]] = field(default_factory=set)
    leftovers: dict[str, dict[str, int]] = field(default_factory=dict)
    """Schema -> {outbox, parked_cases, parked_events} row counts."""


async def leftovers(conn: asyncpg.Connection) -> dict[str, dict[str, int]]:
    """Rows left in each service's outbox and parking tables."""
    found: dict[str, dict[str, int]] = {}
    for schema in SCHEMAS:
        found[schema] = {}
        for table in ("outbox", "parked_cases", "parked_events"):
            exists = await conn.fetchval("SELECT to_regclass($1)", f"{schema}.{table}")
            found[schema][table] = (
                int(await conn.fetchval(f"SELECT count(*) FROM {schema}.{table}")) if exists else 0
            )
    return found


async def snapshot(conn: asyncpg.Connection) -> Snapshot:
    snap = Snapshot()
    for row in await conn.fetch("SELECT case_id, status FROM intake.cases"):
        snap.intake[row["case_id"]] = row["status"]
    for row in await conn.fetch("SELECT case_id, status, end_reason FROM activation.cases"):
        snap.activation_cases[row["case_id"]] = (row["status"], row["end_reason"])
    for row in await conn.fetch("SELECT case_id, service_type, status FROM activation.requests"):
        snap.activation_requests[row["case_id"]].append((row["service_type"], row["status"]))
    for row in await conn.fetch("SELECT case_id, status, outcome FROM monitoring.followups"):
        snap.followups[row["case_id"]] = (row["status"], row["outcome"])
    for row in await conn.fetch("SELECT case_id, week FROM monitoring.checks"):
        snap.checks[(row["case_id"], row["week"])] += 1
    query = "SELECT case_id, status, closed_at IS NOT NULL AS closed FROM billing.cases"
    for row in await conn.fetch(query):
        snap.billing_cases[row["case_id"]] = (row["status"], row["closed"])
    query = "SELECT provider_id, delivery_ref, status FROM billing.deliveries"
    for row in await conn.fetch(query):
        snap.line_status[row["status"]] += 1
        if row["status"] != "duplicate":
            snap.lines[(row["provider_id"], row["delivery_ref"])] += 1
        if row["status"] == "pending":
            snap.pending_lines.append(row["delivery_ref"])
    query = "SELECT ambito_id, funding_source, threshold_percent FROM billing.thresholds_reached"
    for row in await conn.fetch(query):
        snap.thresholds.add((row["ambito_id"], row["funding_source"], row["threshold_percent"]))
    snap.leftovers = await leftovers(conn)
    return snap


# --- how far each consumer group has read ------------------------------------------------------


async def consumer_lag(
    settings: KafkaSettings,
    groups: dict[str, list[str]],
    highwater: dict[TopicPartition, int],
) -> dict[tuple[str, TopicPartition], int]:
    """For each group and partition of the topics it reads: records after its committed
    offset (the end being the high watermark the watcher fetched)."""
    lag: dict[tuple[str, TopicPartition], int] = {}
    admin = AIOKafkaAdminClient(**settings.client_params(), client_id="chaos-lag")
    await admin.start()
    try:
        for group, topics in groups.items():
            partitions = [tp for tp in highwater if tp.topic in topics]
            committed = await admin.list_consumer_group_offsets(group, partitions=partitions)
            for tp in partitions:
                at = committed.get(tp)
                offset = at.offset if at is not None and at.offset >= 0 else 0
                lag[(group, tp)] = max(0, highwater[tp] - offset)
    finally:
        await admin.close()
    return lag


# --- the judgement -------------------------------------------------------------------------------


def judge(
    plans: list[CasePlan],
    observed: Observed,
    snap: Snapshot,
    lag: dict[tuple[str, TopicPartition], int],
) -> Verdict:
    verdict = Verdict()
    for plan in plans:
        _decision(verdict, plan, observed, snap)
        if plan.kind is Kind.ELIGIBLE:
            _followed(verdict, plan, observed, snap)
        elif plan.kind is Kind.CANCELLED:
            _cancelled(verdict, plan, observed, snap)
        else:
            _nothing_started(verdict, plan, observed, snap)
    _requests_once(verdict, observed)
    _billing(verdict, observed, snap)
    for key, ids in observed.thresholds.items():
        if len(ids) > 1:
            verdict.add("duplicated", f"BudgetThresholdReached {key}: {len(ids)} events")
    for key in snap.thresholds - set(observed.thresholds):
        verdict.add("lost", f"threshold {key} recorded by billing but never published")
    for letter in observed.dead_letters:
        verdict.add("dead-lettered", letter.describe())
    for (group, tp), behind in sorted(lag.items()):
        if behind:
            verdict.add(
                "stuck", f"group {group} is {behind} records behind on {tp.topic}/{tp.partition}"
            )
    for schema, tables in snap.leftovers.items():
        for table, rows in tables.items():
            if rows:
                verdict.add("stuck", f"{schema}.{table}: {rows} rows left")
    for ref in snap.pending_lines:
        verdict.add("stuck", f"billing line {ref} still pending")
    kinds = Counter(plan.kind for plan in plans)
    verdict.checked = {
        "eligible cases": kinds[Kind.ELIGIBLE],
        "not eligible": kinds[Kind.NOT_ELIGIBLE],
        "cancelled": kinds[Kind.CANCELLED],
        "requests": len(observed.requested),
        "activations": len(observed.activated),
        "deactivations": len(observed.deactivated),
        "weekly checks": len(observed.checks),
        "closures": len(observed.closed),
        "delivery lines": len(observed.reports),
        "budget thresholds": len(observed.thresholds),
        "consumer partitions": len(lag),
    }
    return verdict


def _decision(verdict: Verdict, plan: CasePlan, observed: Observed, snap: Snapshot) -> None:
    case = plan.case_id
    confirmed, rejected = observed.confirmed.get(case, set()), observed.rejected.get(case, set())
    want, wrong = (rejected, confirmed) if plan.kind is Kind.NOT_ELIGIBLE else (confirmed, rejected)
    name = "EligibilityRejected" if plan.kind is Kind.NOT_ELIGIBLE else "EligibilityConfirmed"
    if not want:
        verdict.add("lost", f"{case} ({plan.kind}): no {name}")
    elif len(want) > 1:
        verdict.add("duplicated", f"{case}: {name} {len(want)} times")
    if wrong:
        verdict.add("lost", f"{case} ({plan.kind}): decided the other way too")
    status = {
        # An eligible case ends "closed" in intake once monitoring's closure reaches it.
        Kind.ELIGIBLE: ("eligible", "closed"),
        Kind.NOT_ELIGIBLE: ("not_eligible",),
        Kind.CANCELLED: ("cancelled",),
    }[plan.kind]
    if snap.intake.get(case) not in status:
        verdict.add("lost", f"{case}: intake says {snap.intake.get(case)}, expected {status}")


def _followed(verdict: Verdict, plan: CasePlan, observed: Observed, snap: Snapshot) -> None:
    """Requested, activated, checked every week, closed, deactivated; in every database."""
    case = plan.case_id
    package = observed.package.get(case, [])
    requests = observed.requests_of(case)
    # Handed over: what goes on under the municipality is not stopped at the closure.
    continuing = observed.continuing.get(case, set())
    for service in package:
        asked = requests.get(service, [])
        if not asked:
            verdict.add("lost", f"{case}: no request for {service}")
            continue
        for request in asked:
            _once(verdict, observed.activated, request, "ServiceActivated", f"{case} {service}")
            if service not in continuing:
                what = f"{case} {service}"
                _once(verdict, observed.deactivated, request, "ServiceDeactivated", what)
            elif observed.deactivated.get(request):
                verdict.add("lost", f"{case} {service}: stopped, though it goes on")
    for service, reason in sorted(observed.escalated.get(case, set())):
        verdict.add("lost", f"{case}: {service} escalated ({reason})")
    for week in range(1, WEEKS + 1):
        _once(verdict, observed.checks, (case, week), "WeeklyCheckDone", case)
        if snap.checks.get((case, week), 0) != 1:
            verdict.add("lost", f"{case}: monitoring has no check for week {week}")
    closed = observed.closed.get(case, {})
    if not closed:
        verdict.add("lost", f"{case}: never closed")
    elif len(closed) > 1:
        verdict.add("duplicated", f"{case}: CaseClosed {len(closed)} times")
    closes_on = plan.discharge_on + timedelta(days=FOLLOW_UP_DAYS)
    if case in observed.closed_on and observed.closed_on[case] < closes_on:
        verdict.add("lost", f"{case}: closed on {observed.closed_on[case]}, before {closes_on}")
    outcomes = set(closed.values())
    if closed and outcomes != {plan.expected_outcome}:
        verdict.add("lost", f"{case}: closed {sorted(outcomes)}, expected {plan.expected_outcome}")
    if snap.followups.get(case) != ("closed", plan.expected_outcome):
        verdict.add("lost", f"{case}: monitoring holds {snap.followups.get(case)}")
    _ended_in_activation(verdict, case, snap, len(package), continuing)
    if snap.billing_cases.get(case) != ("confirmed", True):
        verdict.add("lost", f"{case}: billing holds {snap.billing_cases.get(case)}")


def _cancelled(verdict: Verdict, plan: CasePlan, observed: Observed, snap: Snapshot) -> None:
    """Every request made was deactivated; nothing followed, nothing closed."""
    case = plan.case_id
    for service, asked in observed.requests_of(case).items():
        for request in asked:
            _once(verdict, observed.deactivated, request, "ServiceDeactivated", f"{case} {service}")
    if observed.closed.get(case):
        verdict.add("lost", f"{case} (cancelled): closed by monitoring")
    if any(key[0] == case for key in snap.checks):
        verdict.add("lost", f"{case} (cancelled): weekly checks recorded")
    if snap.followups.get(case, ("cancelled", None))[0] != "cancelled":
        verdict.add("lost", f"{case} (cancelled): monitoring holds {snap.followups.get(case)}")
    _ended_in_activation(verdict, case, snap, None)


def _nothing_started(verdict: Verdict, plan: CasePlan, observed: Observed, snap: Snapshot) -> None:
    case = plan.case_id
    if observed.requests_of(case) or snap.activation_requests.get(case):
        verdict.add("lost", f"{case} (not eligible): services requested")
    if case in snap.followups or observed.closed.get(case):
        verdict.add("lost", f"{case} (not eligible): followed by monitoring")
    if snap.billing_cases.get(case, ("rejected", False))[0] != "rejected":
        verdict.add("lost", f"{case} (not eligible): billing holds {snap.billing_cases[case]}")


def _ended_in_activation(
    verdict: Verdict,
    case: str,
    snap: Snapshot,
    services: int | None,
    continuing: set[str] | None = None,
) -> None:
    status = snap.activation_cases.get(case, (None, None))[0]
    if status != "ended" and (services is not None or status is not None):
        verdict.add("lost", f"{case}: activation holds the case as {status}")
    rows = snap.activation_requests.get(case, [])
    going_on = continuing or set()
    still_open = [
        s for s, st in rows if st == "requested" or (st == "accepted" and s not in going_on)
    ]
    if still_open:
        verdict.add("lost", f"{case}: activation still has {still_open} open")
    if services is not None:
        per_service = Counter(s for s, _ in rows)
        for service, n in per_service.items():
            if n > 1:
                verdict.add("duplicated", f"{case}: {n} requests for {service} in activation")
        if len(per_service) != services:
            verdict.add(
                "lost", f"{case}: activation holds {len(per_service)} of {services} services"
            )


def _requests_once(verdict: Verdict, observed: Observed) -> None:
    for request, ids in observed.requested.items():
        if len(ids) > 1:
            verdict.add(
                "duplicated", f"request {request}: ServiceActivationRequested {len(ids)} times"
            )
    for case, services in observed.by_case.items():
        for service, asked in services.items():
            if len(asked) > 1:
                verdict.add("duplicated", f"{case}: {len(asked)} requests for {service}: {asked}")


def _billing(verdict: Verdict, observed: Observed, snap: Snapshot) -> None:
    for key in observed.reports:
        rows = snap.lines.get(key, 0)
        if rows == 0:
            verdict.add("lost", f"delivery {key[1]} ({key[0]}) not in billing")
        elif rows > 1:
            verdict.add("duplicated", f"delivery {key[1]} ({key[0]}) billed {rows} times")
    for key in set(snap.lines) - set(observed.reports):
        verdict.add("duplicated", f"billing line {key[1]} ({key[0]}) was never reported")


def _once(
    verdict: Verdict,
    seen: dict[str, set[str]] | dict[tuple[str, int], set[str]],
    key: object,
    name: str,
    what: str,
) -> None:
    ids = seen.get(key, set())  # type: ignore[call-overload]
    if not ids:
        verdict.add("lost", f"{what}: no {name} ({key})")
    elif len(ids) > 1:
        verdict.add("duplicated", f"{what}: {name} {len(ids)} times ({key})")
