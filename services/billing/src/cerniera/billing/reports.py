"""The district's reporting, pure (no I/O): what a plan would cost each funding source before
the team confirms it, spending per quarter, progress against the beneficiary target, and the
rows of the funder's export (PNRR monitoring: one per beneficiary and quarter).

Everything is worked out from what billing priced (``store`` reads it), never typed by hand.
A beneficiary is a person: the case's ``person_ref`` (the pseudonym of the fiscal code), else,
for a case confirmed before contract 2.1, the case itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Final

from cerniera.billing.config import Ambito, BeneficiaryTarget
from cerniera.billing.domain import HUNDRED, ZERO, cents, euro, price
from cerniera.shared.contract import ServiceType
from cerniera.shared.refusals import Invalid

PERIOD_INVALID: Final = "report.period_invalid"

_ROMAN: Final = ("I", "II", "III", "IV")


# --- quarters --------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    number: int
    """1 to 4."""

    @property
    def code(self) -> str:
        """Machine code: "2026-Q4"."""
        return f"{self.year:04d}-Q{self.number}"

    @property
    def label(self) -> str:
        """As the district reads it: "IV trimestre 2026"."""
        return f"{_ROMAN[self.number - 1]} trimestre {self.year}"

    @property
    def start(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def end(self) -> date:
        """Its last day."""
        if self.number == 4:
            return date(self.year, 12, 31)
        return date(self.year, 3 * self.number + 1, 1) - timedelta(days=1)


def quarter_of(day: date) -> Quarter:
    return Quarter(day.year, (day.month - 1) // 3 + 1)


def check_period(start: date | None, end: date | None) -> None:
    if start is not None and end is not None and start > end:
        raise Invalid(
            PERIOD_INVALID, "La data di inizio del periodo è successiva a quella di fine."
        )


# --- a plan's cost before it is confirmed ---------------------------------------------------


@dataclass(frozen=True)
class PlannedService:
    service_type: ServiceType
    weekly_quantity: Decimal


@dataclass(frozen=True)
class ServiceEstimate:
    service_type: ServiceType
    quantity: Decimal
    """Over the whole plan; SAD hours no more than the cap per person."""
    unit_tariff: Decimal
    amount: Decimal
    capped: bool
    """The SAD hours planned exceed the cap: only the cap is counted (billing pays no more)."""


@dataclass(frozen=True)
class SourceForecast:
    funding_source: str
    name: str
    remaining: Decimal
    """Budget not yet spent, before this plan."""
    estimated_cost: Decimal
    """The part of the plan's cost this source would pay (sources are spent in order)."""
    remaining_after: Decimal
    exceeds: bool
    """The plan's cost reaching this source is more than it has left."""
    message: str


@dataclass(frozen=True)
class Forecast:
    ambito_id: str
    days: int
    services: tuple[ServiceEstimate, ...]
    total: Decimal
    sources: tuple[SourceForecast, ...]
    unfunded: Decimal
    """What no source could pay."""
    message: str

    @property
    def fits(self) -> bool:
        return self.unfunded == 0


def forecast(
    ambito: Ambito,
    services: Sequence[PlannedService],
    days: int,
    spent: Mapping[str, Decimal],
) -> Forecast:
    """What ``services`` (weekly quantities) for ``days`` would cost at the district's tariffs
    (no surcharge: evenings and holidays are not known yet), and how the district's funding
    sources, spent in their order as billing spends them, would pay it given what each has
    ``spent``."""
    rules = ambito.billing
    estimates = []
    for planned in services:
        quantity = cents(planned.weekly_quantity * days / 7)
        capped = planned.service_type is ServiceType.SAD and quantity > rules.sad_cap_hours
        if capped:
            quantity = rules.sad_cap_hours
        tariff = rules.tariffs[planned.service_type]
        estimates.append(
            ServiceEstimate(planned.service_type, quantity, tariff, price(quantity, tariff), capped)
        )
    total = sum((e.amount for e in estimates), ZERO)
    sources = []
    left = total
    for i, source in enumerate(ambito.funding):
        remaining = max(source.amount - spent.get(source.id, ZERO), ZERO)
        take = min(remaining, left)
        exceeds = left > remaining
        last = i == len(ambito.funding) - 1
        sources.append(
            SourceForecast(
                funding_source=source.id,
                name=source.name,
                remaining=remaining,
                estimated_cost=take,
                remaining_after=remaining - take,
                exceeds=exceeds,
                message=_source_message(source.name, remaining, left, take, exceeds, last),
            )
        )
        left -= take
    return Forecast(
        ambito_id=ambito.id,
        days=days,
        services=tuple(estimates),
        total=total,
        sources=tuple(sources),
        unfunded=left,
        message=_forecast_message(ambito.name, total, days, left, estimates, rules.sad_cap_hours),
    )


def _source_message(
    name: str, remaining: Decimal, reaching: Decimal, take: Decimal, exceeds: bool, last: bool
) -> str:
    head = f"{name}: residuo {euro(remaining)}"
    if reaching == 0:
        return f"{head}; il piano non la userebbe."
    if not exceeds:
        return f"{head}; il piano ne userebbe {euro(take)}, resterebbero {euro(remaining - take)}."
    over = reaching - remaining
    then = "resterebbero senza copertura" if last else "ricadrebbero sulla fonte successiva"
    return (
        f"{head}; il piano (stima {euro(reaching)} a carico di questa fonte) la supererebbe "
        f"di {euro(over)}, che {then}."
    )


def _forecast_message(
    ambito_name: str,
    total: Decimal,
    days: int,
    unfunded: Decimal,
    estimates: Iterable[ServiceEstimate],
    cap: Decimal,
) -> str:
    text = f"Costo stimato del piano per {days} giorni: {euro(total)}."
    if any(e.capped for e in estimates):
        text += f" Le ore SAD sono contate fino al tetto di {format(cap.normalize(), 'f')} ore."
    if unfunded > 0:
        return (
            f"{text} Attenzione: supera il budget residuo di {ambito_name} di "
            f"{euro(unfunded)}; prima di confermarlo serve una decisione dell'ambito."
        )
    return f"{text} Rientra nel budget residuo di {ambito_name}."


# --- spending per quarter --------------------------------------------------------------------


@dataclass(frozen=True)
class Spent:
    """What billing paid from one source in one quarter (a row of ``store.spending``)."""

    ambito_id: str
    quarter: Quarter
    funding_source: str
    amount: Decimal
    beneficiaries: int


@dataclass(frozen=True)
class SourceSpending:
    funding_source: str
    name: str
    spent: Decimal
    beneficiaries: int


@dataclass(frozen=True)
class QuarterSpending:
    quarter: Quarter
    funding: tuple[SourceSpending, ...]

    @property
    def total(self) -> Decimal:
        return sum((f.spent for f in self.funding), ZERO)


def by_quarter(ambito: Ambito, spent: Iterable[Spent]) -> list[QuarterSpending]:
    """The district's quarters with spending, in order, each listing every funding source in
    spending order (zero where it paid nothing)."""
    found: dict[Quarter, dict[str, Spent]] = {}
    for row in spent:
        if row.ambito_id == ambito.id:
            found.setdefault(row.quarter, {})[row.funding_source] = row
    return [
        QuarterSpending(
            quarter,
            tuple(
                SourceSpending(
                    s.id,
                    s.name,
                    rows[s.id].amount if s.id in rows else ZERO,
                    rows[s.id].beneficiaries if s.id in rows else 0,
                )
                for s in ambito.funding
            ),
        )
        for quarter, rows in sorted(found.items())
    ]


# --- the beneficiary target ------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    ambito_id: str
    beneficiaries: int
    target: BeneficiaryTarget | None
    message: str

    @property
    def percent(self) -> Decimal | None:
        if self.target is None:
            return None
        return cents(Decimal(self.beneficiaries) * HUNDRED / self.target.count)

    @property
    def until(self) -> date | None:
        """The end of the target's years, when its start is known."""
        target = self.target
        if target is None or target.since is None:
            return None
        since, year = target.since, target.since.year + target.years
        try:
            return since.replace(year=year)
        except ValueError:  # 29 February, and the year is not a leap year
            return since.replace(year=year, day=28)


def progress(ambito: Ambito, beneficiaries: int) -> Progress:
    """The persons served (a billed line since the target's start) against the target."""
    target = ambito.beneficiary_target
    if target is None:
        message = f"{ambito.name}: {beneficiaries} beneficiari; nessun obiettivo configurato."
    else:
        share = format(cents(Decimal(beneficiaries) * HUNDRED / target.count), "f")
        message = (
            f"{ambito.name}: {beneficiaries} beneficiari su {target.count} previsti in "
            f"{target.years} anni ({share.replace('.', ',')}%)."
        )
    return Progress(ambito.id, beneficiaries, target, message)


# --- the funder's export ---------------------------------------------------------------------


@dataclass(frozen=True)
class Served:
    """What billing paid for one case and service in one quarter (a row of
    ``store.served``), with what it knows of the case."""

    ambito_id: str
    case_id: str
    person_ref: str | None
    quarter: Quarter
    service_type: ServiceType
    amount: Decimal
    start: date
    """The case's first day of service (its first activation, else its first billed line)."""
    closed_on: date | None


@dataclass(frozen=True)
class FunderRow:
    """One beneficiary in one quarter, as PNRR monitoring asks."""

    beneficiary: str
    """The person's pseudonym; the case id for a case confirmed before contract 2.1."""
    ambito_id: str
    quarter: Quarter
    start: date
    end: date | None
    """The closure day, once every case of the person served in the quarter is closed."""
    services: tuple[ServiceType, ...]
    spending: Decimal


def funder_rows(served: Iterable[Served]) -> list[FunderRow]:
    """One row per district, beneficiary and quarter: the cases of the person paid in that
    quarter give its start (the earliest), its end (the latest closure, if all are closed),
    its services and its spending."""
    groups: dict[tuple[str, str, Quarter], list[Served]] = {}
    for s in served:
        who = s.person_ref or s.case_id
        groups.setdefault((s.ambito_id, who, s.quarter), []).append(s)
    rows = []
    for (ambito_id, who, quarter), parts in groups.items():
        closures = [p.closed_on for p in parts]
        kinds = {p.service_type for p in parts}
        rows.append(
            FunderRow(
                beneficiary=who,
                ambito_id=ambito_id,
                quarter=quarter,
                start=min(p.start for p in parts),
                end=None if None in closures else max(c for c in closures if c is not None),
                services=tuple(s for s in ServiceType if s in kinds),
                spending=sum((p.amount for p in parts), ZERO),
            )
        )
    return sorted(rows, key=lambda r: (r.ambito_id, r.quarter, r.beneficiary))
