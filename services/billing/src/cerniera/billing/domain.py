"""Billing's rules, pure: no I/O, so every rule is tested on its own.

A provider's delivery line becomes a ``Billing``: priced by tariff (the provider's own, else the
district's), with the surcharge on evening and holiday SAD hours, cut at the SAD cap per
beneficiary, and paid from the district's funding sources in their order. Money is ``Decimal``
euros throughout, rounded to the cent (half-up) once per line; never a float.

A delivery is paid only for a service activated for that provider, case and service
(``ServiceActivated``, until ``ServiceDeactivated``), on a day of the authorised period and
within the weekly quantity of the plan in force that day (``authorise``; the plan of the
EligibilityConfirmed, then each PlanRevised from the day it was made): billing keeps its own
copy of the activations and plans, written from activation's and intake's events.

The SAD cap counts the hours of the *person* (``person_ref``, the pseudonym of the fiscal
code, the same across visits and hospitals), across all their cases; a case confirmed without
one (an event older than contract 2.1) counts on its own.

A delivery ends in one of these statuses, and is shown on the statement as one or more
*portions* (the part billed to each funding source, the part refused for each reason):
``billed`` (at least a part is paid), ``refused`` (nothing is paid, with the reasons),
``duplicate`` (the same ``delivery_ref`` was already received), ``pending`` (the case's
eligibility has not reached billing yet: events on different topics have no order).

Refusals (``cerniera.shared.refusals``) carry stable codes too: ``ambito.unknown``,
``provider.unknown``, ``provider.not_in_district``, ``statement.ambito_required``,
``period.not_over``.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Final

import holidays

from cerniera.billing.config import Ambito, BillingConfig, BillingRules, FundingSource
from cerniera.shared.clock import italian_date
from cerniera.shared.contract import Reason, ServiceType
from cerniera.shared.refusals import Invalid, NotFound, Refused

CENT: Final = Decimal("0.01")
ZERO: Final = Decimal("0.00")
HUNDRED: Final = Decimal(100)

# Reason codes: stable, machine-readable; the statement and the logs carry them.
PROVIDER_NOT_IN_DISTRICT: Final = "provider.not_in_district"
SERVICE_NOT_OFFERED: Final = "provider.service_not_offered"
CASE_NOT_ELIGIBLE: Final = "case.not_eligible"
CASE_CLOSED: Final = "case.closed"
CAP_EXCEEDED: Final = "sad.cap_exceeded"
BUDGET_EXHAUSTED: Final = "budget.exhausted"
DUPLICATE: Final = "delivery.duplicate"
NOT_AUTHORISED: Final = "delivery.not_authorised"
OUTSIDE_PERIOD: Final = "delivery.outside_period"
OVER_QUANTITY: Final = "delivery.over_quantity"
AWAITING_ACTIVATION: Final = (NOT_AUTHORISED, OUTSIDE_PERIOD)
"""Refusals an activation arriving later may lift (activation's events come on another
topic): lines refused for them are priced again when it does."""
PENDING: Final = "case.awaiting_eligibility"

# Refusal codes: a request (or an event) billing cannot act on.
AMBITO_UNKNOWN: Final = "ambito.unknown"
PROVIDER_UNKNOWN: Final = "provider.unknown"
AMBITO_REQUIRED: Final = "statement.ambito_required"
PERIOD_NOT_OVER: Final = "period.not_over"

_ITALY: Final = holidays.country_holidays("IT")  # national public holidays, any year


class LineStatus(StrEnum):
    BILLED = "billed"
    REFUSED = "refused"
    DUPLICATE = "duplicate"
    PENDING = "pending"


PRICED: Final = (LineStatus.BILLED, LineStatus.REFUSED)


class CaseStatus(StrEnum):
    UNKNOWN = "unknown"
    """A delivery or the closure reached billing before the eligibility."""
    CONFIRMED = "confirmed"
    REJECTED = "rejected"


def cents(value: Decimal) -> Decimal:
    """Round to the cent, half-up (the administrations' rule, not banker's rounding)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


# --- pricing ---------------------------------------------------------------------------------


def is_holiday(day: date) -> bool:
    """A Sunday or an Italian national public holiday."""
    return day.weekday() == calendar.SUNDAY or day in _ITALY


def surcharge_percent(
    rules: BillingRules, service: ServiceType, delivered_on: date, evening: bool
) -> Decimal:
    """The surcharge on SAD hours delivered in the evening or on a holiday; none otherwise."""
    if service is ServiceType.SAD and (evening or is_holiday(delivered_on)):
        return rules.surcharge_percent
    return ZERO


def price(quantity: Decimal, unit_tariff: Decimal, surcharge: Decimal = ZERO) -> Decimal:
    """``quantity × tariff``, plus ``surcharge`` percent, rounded to the cent once."""
    return cents(quantity * unit_tariff * (HUNDRED + surcharge) / HUNDRED)


def split_at_cap(used: Decimal, quantity: Decimal, cap: Decimal) -> tuple[Decimal, Decimal]:
    """``(within, beyond)``: the part of ``quantity`` that still fits under ``cap`` given the
    hours ``used`` so far, and the rest."""
    room = max(cap - used, ZERO)
    within = min(quantity, room)
    return within, quantity - within


# --- budgets ---------------------------------------------------------------------------------


def allocate(
    amount: Decimal, sources: Sequence[FundingSource], spent: Mapping[str, Decimal]
) -> tuple[list[tuple[str, Decimal]], Decimal]:
    """Pay ``amount`` from the sources in their order, each until exhausted; return the shares
    ``[(source id, amount)]`` and what no source could pay (unfunded)."""
    shares: list[tuple[str, Decimal]] = []
    left = amount
    for source in sources:
        if left <= 0:
            break
        room = source.amount - spent.get(source.id, ZERO)
        if room <= 0:
            continue
        take = min(room, left)
        shares.append((source.id, take))
        left -= take
    return shares, left


def apportion(quantity: Decimal, amounts: Sequence[Decimal]) -> list[Decimal]:
    """Split ``quantity`` in proportion to ``amounts`` (rounded to 0.01, cumulatively, so the
    parts are never negative and always add up to ``quantity``)."""
    total = sum(amounts, ZERO)
    if total <= 0:
        return [quantity] + [ZERO] * (len(amounts) - 1) if amounts else []
    parts: list[Decimal] = []
    running, given = ZERO, ZERO
    for i, amount in enumerate(amounts):
        running += amount
        upto = quantity if i == len(amounts) - 1 else cents(quantity * running / total)
        parts.append(upto - given)
        given = upto
    return parts


def thresholds_crossed(
    before: Decimal, after: Decimal, budget: Decimal, thresholds: Iterable[int]
) -> list[int]:
    """The thresholds (percent of ``budget``) that spending from ``before`` to ``after``
    reaches: each at most once, however many one line crosses."""
    return [t for t in thresholds if before < budget * t / HUNDRED <= after]


def percent_spent(spent: Decimal, budget: Decimal) -> Decimal:
    return cents(spent * HUNDRED / budget)


def euro(amount: Decimal) -> str:
    """An amount as Italians write it: "1.234,50 €"."""
    text = f"{cents(amount):,.2f}"  # 1,234.50
    return text.replace(",", " ").replace(".", ",").replace(" ", ".") + " €"


# --- a delivery ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    """What billing needs of a HoursDelivered."""

    provider_id: str
    service_type: ServiceType
    delivered_on: date
    quantity: Decimal
    evening: bool = False


@dataclass(frozen=True)
class Authorisation:
    """One activation request of a provider for a case and service, as activation's events
    told billing: active from ``active_from`` (ServiceActivated) through ``until``
    (ServiceDeactivated, the last day of service)."""

    request_id: str
    active_from: date | None = None
    """None while only its deactivation is known: such a request authorises nothing."""
    until: date | None = None

    def covers(self, day: date) -> bool:
        return (
            self.active_from is not None
            and self.active_from <= day
            and (self.until is None or day <= self.until)
        )


@dataclass(frozen=True)
class Grant:
    """What authorises one provider's deliveries of one service for one case."""

    weekly_quantity: Decimal | None
    """The weekly quantity of the service in the plan in force on the line's day
    (EligibilityConfirmed, then PlanRevised); None if not in it."""
    authorisations: tuple[Authorisation, ...] = ()
    counted: tuple[tuple[date, Decimal], ...] = ()
    """(day, quantity) of the provider's lines of this service already counted against the
    weekly quantity."""


_UNITS: Final = {ServiceType.SAD: "ore", ServiceType.MEALS: "pasti"}
"""Units of a service as the district reads them; the others are days (giorni)."""


def unit_of(service: ServiceType) -> str:
    return _UNITS.get(service, "giorni")


def week_of(day: date) -> tuple[date, date]:
    """The calendar week of ``day``, Monday to Sunday: its first day and the next Monday."""
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=7)


def authorise(grant: Grant, delivery: Delivery) -> Reason | None:
    """None when the line is authorised; else the reason it is refused, in Italian for the
    district. Weeks are calendar weeks: each gets the plan's weekly quantity, and a line
    that would take its week's total beyond it is refused as a whole."""
    day, service = delivery.delivered_on, delivery.service_type
    activated = [a for a in grant.authorisations if a.active_from is not None]
    if not activated:
        return Reason(
            code=NOT_AUTHORISED,
            text=(
                f"Nessuna attivazione del servizio {service} presso {delivery.provider_id} "
                "per questo caso: prestazione non autorizzata, non pagata."
            ),
        )
    if not any(a.covers(day) for a in activated):
        periods = ", ".join(_period(a) for a in activated)
        return Reason(
            code=OUTSIDE_PERIOD,
            text=f"Prestazione del {_it(day)} fuori dal periodo autorizzato ({periods}).",
        )
    if grant.weekly_quantity is None:
        return Reason(
            code=NOT_AUTHORISED,
            text=f"Il servizio {service} non è nel piano del caso in vigore il {_it(day)}.",
        )
    start, end = week_of(day)
    used = sum((q for d, q in grant.counted if start <= d < end), ZERO)
    if used + delivery.quantity > grant.weekly_quantity:
        unit = unit_of(service)
        return Reason(
            code=OVER_QUANTITY,
            text=(
                f"Settimana dal {_it(start)}: autorizzate {_n(grant.weekly_quantity)} {unit}, "
                f"già riconosciute {_n(used)}; questa riga di {_n(delivery.quantity)} le supera."
            ),
        )
    return None


def _it(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def _n(quantity: Decimal) -> str:
    """A quantity as Italians write it: "1,5", "6"."""
    return format(quantity.normalize(), "f").replace(".", ",")


def _period(authorisation: Authorisation) -> str:
    assert authorisation.active_from is not None
    start = f"dal {_it(authorisation.active_from)}"
    return f"{start} al {_it(authorisation.until)}" if authorisation.until else start


@dataclass(frozen=True)
class CaseState:
    """The case as billing knows it when pricing a line."""

    ambito_id: str
    grant: Grant
    """What authorises the line's provider and service for the case."""
    closed_on: date | None = None
    sad_hours_used: Decimal = ZERO
    """SAD hours already counted toward the cap (billed or unfunded)."""


@dataclass(frozen=True)
class Plan:
    """One version of a case's individual plan (PAI): weekly quantity by service type, in
    force from ``effective_from`` (the day of its PlanRevised; None for the plan the case was
    confirmed with, in force from the start)."""

    plan_version: int
    weekly_quantities: Mapping[str, Decimal]
    effective_from: date | None = None


def plan_on(plans: Iterable[Plan], day: date) -> Plan | None:
    """The plan in force on ``day``: the latest version already in force then."""
    in_force = [p for p in plans if p.effective_from is None or p.effective_from <= day]
    return max(in_force, key=lambda p: p.plan_version, default=None)


@dataclass(frozen=True)
class Case:
    """A case as billing keeps it: its district and person once eligible, its plans, and its
    closure."""

    case_id: str
    status: CaseStatus
    ambito_id: str | None = None
    closed_at: datetime | None = None
    correlation_id: str | None = None
    person_ref: str | None = None
    """Whose hours the SAD cap counts (None: an older event; the case counts on its own)."""
    plans: tuple[Plan, ...] = ()

    def weekly_quantity(self, service: ServiceType, day: date) -> Decimal | None:
        """The weekly quantity of ``service`` the plan in force on ``day`` authorises."""
        plan = plan_on(self.plans, day)
        return plan.weekly_quantities.get(service.value) if plan is not None else None

    @property
    def closed_on(self) -> date | None:
        """The closure day in Italy: a line delivered on that day is still paid."""
        return italian_date(self.closed_at) if self.closed_at is not None else None


@dataclass(frozen=True)
class Allocation:
    funding_source: str
    amount: Decimal
    quantity: Decimal
    """The share of the delivered quantity this amount pays (apportioned by amount)."""


@dataclass(frozen=True)
class ThresholdCrossed:
    funding_source: str
    threshold_percent: int
    spent: Decimal
    budget: Decimal


@dataclass(frozen=True)
class Portion:
    """One statement line: a part of a delivery with one status, one funding source at most."""

    status: LineStatus
    quantity: Decimal
    amount: Decimal
    """What the part is worth at tariff; only billed portions are paid."""
    funding_source: str | None = None
    reason: Reason | None = None


@dataclass(frozen=True)
class Billing:
    """The outcome of one delivery."""

    status: LineStatus
    quantity: Decimal
    reasons: tuple[Reason, ...] = ()
    unit_tariff: Decimal | None = None
    surcharge_percent: Decimal = ZERO
    priced_quantity: Decimal = ZERO
    """Within the cap, so paid or unfunded."""
    amount: Decimal = ZERO
    """Worth of the priced quantity (or, for a refused line, of the whole quantity)."""
    allocations: tuple[Allocation, ...] = ()
    unfunded_amount: Decimal = ZERO
    unfunded_quantity: Decimal = ZERO
    over_cap_quantity: Decimal = ZERO
    over_cap_amount: Decimal = ZERO
    counted_quantity: Decimal = ZERO
    """Counted against the week's authorised quantity: the whole of an authorised line."""
    thresholds: tuple[ThresholdCrossed, ...] = field(default=(), compare=False)

    @property
    def billed_amount(self) -> Decimal:
        return sum((a.amount for a in self.allocations), ZERO)

    def cap_hours(self, service: ServiceType) -> Decimal:
        """Hours this line uses of the beneficiary's SAD cap."""
        return self.priced_quantity if service is ServiceType.SAD else ZERO

    def reason(self, code: str) -> Reason | None:
        return next((r for r in self.reasons if r.code == code), None)

    def portions(self) -> list[Portion]:
        """The statement lines of this delivery."""
        first = self.reasons[0] if self.reasons else None
        if self.status in (LineStatus.DUPLICATE, LineStatus.PENDING):
            return [Portion(self.status, self.quantity, ZERO, reason=first)]
        out = [
            Portion(LineStatus.BILLED, a.quantity, a.amount, a.funding_source)
            for a in self.allocations
        ]
        if self.status is LineStatus.BILLED and not self.allocations:
            out.append(Portion(LineStatus.BILLED, self.priced_quantity, self.amount))
        if self.unfunded_amount > 0:
            out.append(
                Portion(
                    LineStatus.REFUSED,
                    self.unfunded_quantity,
                    self.unfunded_amount,
                    reason=self.reason(BUDGET_EXHAUSTED),
                )
            )
        if self.over_cap_quantity > 0:
            out.append(
                Portion(
                    LineStatus.REFUSED,
                    self.over_cap_quantity,
                    self.over_cap_amount,
                    reason=self.reason(CAP_EXCEEDED),
                )
            )
        if not out:  # refused as a whole
            out.append(Portion(LineStatus.REFUSED, self.quantity, self.amount, reason=first))
        return out


def bill(
    ambito: Ambito, case: CaseState, delivery: Delivery, spent: Mapping[str, Decimal]
) -> Billing:
    """Price one delivery for a confirmed case of ``ambito``, given what each funding source
    has ``spent`` so far."""
    quantity = delivery.quantity
    provider = ambito.provider(delivery.provider_id)
    if provider is None:
        return refused(
            quantity,
            PROVIDER_NOT_IN_DISTRICT,
            f"L'ente {delivery.provider_id} non è nell'albo dell'ambito {ambito.id}.",
        )
    service = delivery.service_type
    if service not in provider.services:
        return refused(
            quantity,
            SERVICE_NOT_OFFERED,
            f"L'ente {provider.id} non è accreditato per il servizio {service} "
            f"nell'ambito {ambito.id}.",
        )
    rules = ambito.billing
    tariff = ambito.tariff(provider, service)
    surcharge = surcharge_percent(rules, service, delivery.delivered_on, delivery.evening)
    if case.closed_on is not None and delivery.delivered_on > case.closed_on:
        return refused(
            quantity,
            CASE_CLOSED,
            f"Prestazione del {_it(delivery.delivered_on)}, dopo la chiusura del caso "
            f"({_it(case.closed_on)}).",
            unit_tariff=tariff,
            surcharge=surcharge,
        )
    if (unauthorised := authorise(case.grant, delivery)) is not None:
        return refused(
            quantity,
            unauthorised.code,
            unauthorised.text,
            unit_tariff=tariff,
            surcharge=surcharge,
        )

    reasons: list[Reason] = []
    within, beyond = quantity, ZERO
    if service is ServiceType.SAD:
        within, beyond = split_at_cap(case.sad_hours_used, quantity, rules.sad_cap_hours)
        if beyond > 0:
            reasons.append(
                Reason(
                    code=CAP_EXCEEDED,
                    text=(
                        f"Tetto SAD di {_n(rules.sad_cap_hours)} ore per persona: già "
                        f"riconosciute {_n(case.sad_hours_used)} ore, {_n(beyond)} delle "
                        f"{_n(quantity)} ore di questa riga non pagate."
                    ),
                )
            )
    amount = price(within, tariff, surcharge) if within > 0 else ZERO
    shares, unfunded = allocate(amount, ambito.funding, spent)
    quantities = apportion(within, [s for _, s in shares] + ([unfunded] if unfunded else []))
    allocations = tuple(
        Allocation(source, share, q) for (source, share), q in zip(shares, quantities, strict=False)
    )
    if unfunded > 0:
        reasons.append(
            Reason(
                code=BUDGET_EXHAUSTED,
                text=f"Tutte le fonti di finanziamento dell'ambito {ambito.id} sono esaurite: "
                f"{euro(unfunded)} di questa riga senza copertura.",
            )
        )
    budgets = {s.id: s.amount for s in ambito.funding}
    crossed = tuple(
        ThresholdCrossed(source, t, spent.get(source, ZERO) + share, budgets[source])
        for source, share in shares
        for t in thresholds_crossed(
            spent.get(source, ZERO),
            spent.get(source, ZERO) + share,
            budgets[source],
            rules.thresholds_percent,
        )
    )
    paid = bool(allocations) or (within > 0 and amount == 0)
    return Billing(
        status=LineStatus.BILLED if paid else LineStatus.REFUSED,
        quantity=quantity,
        reasons=tuple(reasons),
        unit_tariff=tariff,
        surcharge_percent=surcharge,
        priced_quantity=within,
        amount=amount,
        allocations=allocations,
        unfunded_amount=unfunded,
        unfunded_quantity=quantities[-1] if unfunded > 0 else ZERO,
        over_cap_quantity=beyond,
        over_cap_amount=price(beyond, tariff, surcharge) if beyond > 0 else ZERO,
        counted_quantity=quantity,
        thresholds=crossed,
    )


def refused(
    quantity: Decimal,
    code: str,
    text: str,
    *,
    unit_tariff: Decimal | None = None,
    surcharge: Decimal = ZERO,
) -> Billing:
    """A line refused as a whole: nothing paid, nothing counted toward the cap."""
    amount = price(quantity, unit_tariff, surcharge) if unit_tariff is not None else ZERO
    return Billing(
        status=LineStatus.REFUSED,
        quantity=quantity,
        reasons=(Reason(code=code, text=text),),
        unit_tariff=unit_tariff,
        surcharge_percent=surcharge,
        amount=amount,
    )


def duplicate(quantity: Decimal, delivery_ref: str) -> Billing:
    return Billing(
        status=LineStatus.DUPLICATE,
        quantity=quantity,
        reasons=(
            Reason(
                code=DUPLICATE,
                text=f"Prestazione {delivery_ref} già ricevuta: non fatturata due volte.",
            ),
        ),
    )


def not_eligible(quantity: Decimal, case_id: str) -> Billing:
    return refused(
        quantity,
        CASE_NOT_ELIGIBLE,
        f"Il caso {case_id} non è stato ritenuto idoneo: nessun servizio è pagato.",
    )


def pending(quantity: Decimal) -> Billing:
    return Billing(
        status=LineStatus.PENDING,
        quantity=quantity,
        reasons=(
            Reason(
                code=PENDING,
                text="L'idoneità del caso non è ancora nota: la riga sarà valorizzata allora.",
            ),
        ),
    )


@dataclass(frozen=True)
class Line:
    """A delivery as billing keeps it, with its outcome so far."""

    id: int
    case_id: str
    delivery_ref: str
    ambito_id: str | None
    """The paying district, once the case's is known."""
    correlation_id: str
    """The chain of the HoursDelivered it came from: what its pricing emits joins it."""
    delivery: Delivery
    billing: Billing

    def awaits_activation(self) -> bool:
        """Refused for want of an activation, which may come yet: priced again when one
        does."""
        first = self.billing.reasons[0].code if self.billing.reasons else None
        return self.billing.status is LineStatus.REFUSED and first in AWAITING_ACTIVATION

    def taken_back_by(self, closed_on: date | None) -> bool:
        """Priced for a day after the case closed (the closure reached billing late): its
        pricing is undone and done again, so that it is refused as ``case.closed``."""
        return (
            closed_on is not None
            and self.delivery.delivered_on > closed_on
            and self.billing.priced_quantity > 0
        )


# --- statements ------------------------------------------------------------------------------


def period_bounds(period: str) -> tuple[date, date]:
    """First day of the month ``YYYY-MM`` and first day of the next."""
    year, month = (int(part) for part in period.split("-"))
    start = date(year, month, 1)
    end = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return start, end


def period_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


@dataclass
class ServiceTotals:
    """A statement's totals for one service: only billed portions are paid."""

    billed_quantity: Decimal = ZERO
    billed_amount: Decimal = ZERO
    refused_quantity: Decimal = ZERO
    refused_amount: Decimal = ZERO
    lines: int = 0


def totals(portions: Iterable[tuple[ServiceType, Portion]]) -> dict[ServiceType, ServiceTotals]:
    """Per service, in the contract's order of services; duplicates and pending lines are
    listed on the statement but neither paid nor refused."""
    out: dict[ServiceType, ServiceTotals] = {}
    for service, portion in portions:
        t = out.setdefault(service, ServiceTotals())
        t.lines += 1
        if portion.status is LineStatus.BILLED:
            t.billed_quantity += portion.quantity
            t.billed_amount += portion.amount
        elif portion.status is LineStatus.REFUSED:
            t.refused_quantity += portion.quantity
            t.refused_amount += portion.amount
    return {s: out[s] for s in ServiceType if s in out}


def issued_figures(billings: Iterable[Billing]) -> tuple[Decimal, int]:
    """What issuing a statement announces: the total billed, and the deliveries billed."""
    outcomes = list(billings)
    total = sum((b.billed_amount for b in outcomes), ZERO)
    return total, sum(1 for b in outcomes if b.status is LineStatus.BILLED)


@dataclass(frozen=True)
class Issued:
    """A statement as issued (ProviderStatementIssued): once per provider, district, month."""

    provider_id: str
    ambito_id: str
    period: str
    total: Decimal
    lines: int
    issued_at: datetime
    event_id: str


def check_period_over(period: str, today: date) -> None:
    """Only a month that is over is issued: its lines are all in."""
    if period >= period_of(today):
        raise Refused(PERIOD_NOT_OVER, f"{period} is not over yet (today is {today})")


def district(config: BillingConfig, ambito_id: str) -> Ambito:
    ambito = config.ambiti.get(ambito_id)
    if ambito is None:
        raise NotFound(
            AMBITO_UNKNOWN,
            f"district {ambito_id} is not in billing's configuration (CERNIERA_AMBITI)",
        )
    return ambito


def paying_district(config: BillingConfig, provider_id: str, ambito_id: str | None) -> Ambito:
    """The district a provider's statement is issued to: the one given, or the only one whose
    registry lists the provider."""
    if ambito_id is not None:
        ambito = district(config, ambito_id)
        if ambito.provider(provider_id) is None:
            raise NotFound(
                PROVIDER_NOT_IN_DISTRICT,
                f"provider {provider_id} is not registered in {ambito_id}",
            )
        return ambito
    serving = config.districts_of(provider_id)
    if not serving:
        raise NotFound(PROVIDER_UNKNOWN, f"provider {provider_id} is in no district's registry")
    if len(serving) > 1:
        raise Invalid(
            AMBITO_REQUIRED,
            f"provider {provider_id} serves {', '.join(a.id for a in serving)}: give ambito_id",
        )
    return serving[0]
