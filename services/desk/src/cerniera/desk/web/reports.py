"""Budget and outcomes: what the district spent per funding source and quarter (against its
budget, for the administration), the persons served against the project's target, the outcome
indicators, and the budget thresholds crossed.

The figures are the owning services', asked with the user's own token, so each service scopes
them to the user's districts and role: billing's ``/reports/spending``,
``/reports/beneficiaries`` and (``district_admin`` only) ``/budget``; monitoring's
``/reports/outcomes``; the thresholds from the desk's ledger. A service that does not answer
leaves its part of the page empty, not the whole page.

Every chart is drawn by Chart.js (``static/charts.js`` reads the figures from the page's JSON
block: no inline script), described in words on its canvas, shown again as a table right
below it and downloadable as CSV (``/budget/<chart>.csv``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Final
from urllib.parse import urlencode

import structlog
from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.responses import Response

from cerniera.desk import queries
from cerniera.desk.auth import CurrentUser, User
from cerniera.desk.services import ServiceRefused, ServiceUnavailable
from cerniera.desk.web import i18n
from cerniera.desk.web.pages import language, permit, render
from cerniera.shared import spreadsheet
from cerniera.shared.access import Action
from cerniera.shared.ambiti import district_tables, load_document
from cerniera.shared.contract import BudgetThresholdReached
from cerniera.shared.refusals import Forbidden, NotFound

router = APIRouter(include_in_schema=False)
log = structlog.get_logger(__name__)

Ambito = Annotated[str | None, Query(max_length=128)]
Since = Annotated[str | None, Query(max_length=10)]
Until = Annotated[str | None, Query(max_length=10)]

SPESA, FONTI, BENEFICIARI, ESITI = "spesa", "fonti", "beneficiari", "esiti"
CHARTS: Final = (SPESA, FONTI, BENEFICIARI, ESITI)
"""Each chart's id: its canvas, its table, its CSV (``/budget/<id>.csv``)."""


# --- what the services answer, as the page reads it -----------------------------------------


class _Read(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class FundingSpent(_Read):
    funding_source: str
    name: str
    spent: Decimal
    beneficiaries: int


class QuarterSpent(_Read):
    quarter: str
    """YYYY-Qn."""
    funding: list[FundingSpent]
    total: Decimal


class DistrictSpending(_Read):
    ambito_id: str
    name: str
    quarters: list[QuarterSpent]
    total: Decimal


class FundingBudget(_Read):
    funding_source: str
    name: str
    amount: Decimal
    spent: Decimal
    remaining: Decimal
    percent_spent: Decimal
    beneficiaries: int


class DistrictBudget(_Read):
    ambito_id: str
    name: str
    amount: Decimal
    spent: Decimal
    remaining: Decimal
    percent_spent: Decimal
    unfunded_amount: Decimal
    funding: list[FundingBudget]


class Progress(_Read):
    ambito_id: str
    beneficiaries: int
    target: int | None
    years: int | None
    since: date | None
    until: date | None
    percent: Decimal | None
    message: str


class Rate(_Read):
    count: int
    of: int
    percent: float | None


class Days(_Read):
    cases: int
    mean: float | None
    median: float | None
    max: int | None


class Target(_Read):
    count: int
    reached: int
    percent: float


class DistrictOutcomes(_Read):
    ambito_id: str
    name: str | None
    cases: int
    beneficiaries: int
    open: int
    readmitted_within_30_days: Rate
    institutionalised: Rate
    at_home_at_day_30: Rate
    days_to_every_service_active: Days
    not_all_active: int
    bed_days_lost: int
    cases_waiting_for_services: int
    hand_overs: int
    beneficiaries_to_date: int
    beneficiary_target: Target | None


class OutcomesReport(_Read):
    since: date = Field(alias="from")
    until: date = Field(alias="to")
    districts: list[DistrictOutcomes]


# --- the page's scope: one district, a period ------------------------------------------------


@dataclass(frozen=True, slots=True)
class Scope:
    """One of the user's districts (the first unless asked), and the days the reports cover
    (billing: days of delivery; monitoring: discharge days), each optional."""

    ambito_id: str
    districts: tuple[str, ...]
    since: date | None = None
    until: date | None = None
    problems: tuple[str, ...] = ()
    """i18n keys of what was wrong with the period asked (then ignored)."""

    def params(self, *, period: bool = True) -> dict[str, str]:
        found = {"ambito_id": self.ambito_id}
        if period and self.since is not None:
            found["from"] = self.since.isoformat()
        if period and self.until is not None:
            found["to"] = self.until.isoformat()
        return found

    def query(self) -> str:
        """The page's own query string, for the CSV links."""
        words = {"ambito_id": self.ambito_id}
        if self.since is not None:
            words["da"] = self.since.isoformat()
        if self.until is not None:
            words["a"] = self.until.isoformat()
        return urlencode(words)


def scope_of(user: User, ambito_id: str | None, since: str | None, until: str | None) -> Scope:
    """The district asked, if it is the user's (else 403), and the period, if it reads."""
    visible = user.principal.districts()
    districts = tuple(sorted(visible if visible is not None else district_tables(load_document())))
    if not districts:
        raise Forbidden("access.district", "Nessun ambito assegnato.")
    chosen = ambito_id or districts[0]
    if chosen not in districts:
        raise Forbidden("access.district", "Ambito di altri: accesso non consentito.")
    problems: list[str] = []
    first, last = _day(since, problems), _day(until, problems)
    if first is not None and last is not None and first > last:
        problems.append("budget.error.period")
        first = last = None
    return Scope(chosen, districts, first, last, tuple(dict.fromkeys(problems)))


def _day(raw: str | None, problems: list[str]) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        problems.append("budget.error.day")
        return None


# --- the figures -----------------------------------------------------------------------------


@dataclass
class Figures:
    """What the page shows of one district; ``None`` for what its service did not answer
    (``unavailable``) or the user may not see (the budget, for the team)."""

    spending: DistrictSpending | None = None
    budget: DistrictBudget | None = None
    progress: Progress | None = None
    report: OutcomesReport | None = None
    """Monitoring's report (its period), narrowed to the district."""
    thresholds: list[BudgetThresholdReached] = field(default_factory=list)
    unavailable: list[str] = field(default_factory=list)

    @property
    def outcomes(self) -> DistrictOutcomes | None:
        return self.report.districts[0] if self.report and self.report.districts else None

    def source_names(self) -> dict[str, str]:
        """Funding source id → its name, as billing's answers call it."""
        names = {f.funding_source: f.name for f in (self.budget.funding if self.budget else [])}
        for q in self.spending.quarters if self.spending else []:
            names.update({f.funding_source: f.name for f in q.funding})
        return names


def _of_district(items: Iterable[Any], ambito_id: str) -> Any:
    return next((i for i in items if i.ambito_id == ambito_id), None)


def _narrowed(report: OutcomesReport, ambito_id: str) -> OutcomesReport:
    return report.model_copy(
        update={"districts": [d for d in report.districts if d.ambito_id == ambito_id]}
    )


_SPENDING = TypeAdapter(list[DistrictSpending])
_BUDGETS = TypeAdapter(list[DistrictBudget])
_PROGRESS = TypeAdapter(list[Progress])


Ask = Callable[[], Awaitable[Any]]


def _ask(
    request: Request,
    user: User,
    service: str,
    path: str,
    params: Mapping[str, str],
    read: Callable[[Any], Any],
) -> Ask:
    async def ask() -> Any:
        services = request.app.state.services
        return read(await services.call("GET", service, path, user.token, params=params))

    return ask


def _asks(request: Request, user: User, scope: Scope) -> dict[str, Ask]:
    """The question for each chart (the budget only for whom may read it), each reading its
    answer for the scope's district (``None`` when the answer has none)."""
    district = scope.ambito_id

    def one(adapter: TypeAdapter[Any]) -> Callable[[Any], Any]:
        return lambda body: _of_district(adapter.validate_python(body), district)

    asks = {
        SPESA: _ask(request, user, "billing", "/reports/spending", scope.params(), one(_SPENDING)),
        BENEFICIARI: _ask(
            request,
            user,
            "billing",
            "/reports/beneficiaries",
            scope.params(period=False),
            one(_PROGRESS),
        ),
        ESITI: _ask(
            request,
            user,
            "monitoring",
            "/reports/outcomes",
            scope.params(),
            lambda body: _narrowed(OutcomesReport.model_validate(body), district),
        ),
    }
    if user.principal.may(Action.BUDGET_READ):
        asks[FONTI] = _ask(
            request, user, "billing", "/budget", scope.params(period=False), one(_BUDGETS)
        )
    return asks


async def gather(request: Request, user: User, scope: Scope, only: str | None = None) -> Figures:
    """Every service asked at once; one that does not answer (or refuses) marks its chart
    unavailable. ``only``: just that chart, for its CSV (there an outage is the page's 503)."""
    asks = {n: a for n, a in _asks(request, user, scope).items() if only in (None, n)}
    answers = await asyncio.gather(*(ask() for ask in asks.values()), return_exceptions=True)
    figures = Figures()
    for name, answer in zip(asks, answers, strict=True):
        if isinstance(answer, ServiceUnavailable | ServiceRefused | ValidationError):
            log.warning("report.unavailable", chart=name, error=repr(answer)[:500])
            if only is not None:
                raise ServiceUnavailable(name) from answer
            figures.unavailable.append(name)
        elif isinstance(answer, BaseException):
            raise answer
        else:
            setattr(figures, _FIELD[name], answer)
    if only is None:
        async with request.app.state.runtime.engine.connect() as conn:
            figures.thresholds = await thresholds(conn, scope.ambito_id)
    return figures


_FIELD: Final = {SPESA: "spending", FONTI: "budget", BENEFICIARI: "progress", ESITI: "report"}


async def thresholds(conn: AsyncConnection, ambito_id: str) -> list[BudgetThresholdReached]:
    """The district's BudgetThresholdReached events in the desk's ledger, latest first."""
    entries = await queries.ledger(
        conn, ambito_ids=[ambito_id], event_type=BudgetThresholdReached.event_type
    )
    found = []
    for entry in entries:
        try:
            found.append(BudgetThresholdReached.model_validate(entry.data))
        except ValidationError:
            continue
    return sorted(found, key=lambda t: t.reached_at, reverse=True)


# --- tables and charts, pure -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    """The CSV's header (stable, machine-readable) and the i18n key ``budget.col.<key>``."""
    kind: str = "text"
    """``text``, ``money``, ``count``, ``number``, ``percent``, ``day``: how a cell is shown."""
    on_page: bool = True
    """Codes are for the CSV; the page's table shows their names."""


@dataclass(frozen=True, slots=True)
class Table:
    """One chart's figures as rows: the table under the chart and its CSV."""

    columns: tuple[Column, ...]
    rows: tuple[tuple[Any, ...], ...]


def quarter_label(code: str, lang: str) -> str:
    """``2024-Q4`` → "IV trimestre 2024" / "Q4 2024"."""
    year, _, n = code.partition("-Q")
    roman = ("I", "II", "III", "IV")[int(n) - 1]
    return i18n.text("budget.quarter", lang, roman=roman, n=n, year=year)


SPENDING_COLUMNS: Final = (
    Column("ambito_id", on_page=False),
    Column("trimestre", on_page=False),
    Column("periodo"),
    Column("fonte", on_page=False),
    Column("nome_fonte"),
    Column("speso", "money"),
    Column("beneficiari", "count"),
)
BUDGET_COLUMNS: Final = (
    Column("ambito_id", on_page=False),
    Column("fonte", on_page=False),
    Column("nome_fonte"),
    Column("budget", "money"),
    Column("speso", "money"),
    Column("residuo", "money"),
    Column("percentuale_spesa", "percent"),
    Column("beneficiari", "count"),
)
PROGRESS_COLUMNS: Final = (
    Column("ambito_id", on_page=False),
    Column("beneficiari", "count"),
    Column("obiettivo", "count"),
    Column("anni", "count"),
    Column("dal", "day"),
    Column("al", "day"),
    Column("percentuale", "percent"),
)
OUTCOME_COLUMNS: Final = (
    Column("ambito_id", on_page=False),
    Column("indicatore", on_page=False),
    Column("descrizione"),
    Column("valore", "number"),
    Column("su", "count"),
    Column("percentuale", "percent"),
)
COLUMNS: Final = {
    SPESA: SPENDING_COLUMNS,
    FONTI: BUDGET_COLUMNS,
    BENEFICIARI: PROGRESS_COLUMNS,
    ESITI: OUTCOME_COLUMNS,
}


def spending_table(spending: DistrictSpending, lang: str) -> Table:
    return Table(
        SPENDING_COLUMNS,
        tuple(
            (
                spending.ambito_id,
                q.quarter,
                quarter_label(q.quarter, lang),
                f.funding_source,
                f.name,
                f.spent,
                f.beneficiaries,
            )
            for q in spending.quarters
            for f in q.funding
        ),
    )


def budget_table(budget: DistrictBudget) -> Table:
    return Table(
        BUDGET_COLUMNS,
        tuple(
            (
                budget.ambito_id,
                f.funding_source,
                f.name,
                f.amount,
                f.spent,
                f.remaining,
                f.percent_spent,
                f.beneficiaries,
            )
            for f in budget.funding
        ),
    )


def progress_table(progress: Progress) -> Table:
    return Table(
        PROGRESS_COLUMNS,
        (
            (
                progress.ambito_id,
                progress.beneficiaries,
                progress.target,
                progress.years,
                progress.since,
                progress.until,
                progress.percent,
            ),
        ),
    )


RATES: Final = ("readmitted_within_30_days", "institutionalised", "at_home_at_day_30")
COUNTS: Final = (
    "cases",
    "beneficiaries",
    "open",
    "not_all_active",
    "bed_days_lost",
    "cases_waiting_for_services",
    "hand_overs",
)


def outcomes_table(outcomes: DistrictOutcomes, lang: str) -> Table:
    """Each indicator a row: its code, its name, its value, out of what, its percentage."""
    rows: list[tuple[Any, ...]] = []

    def row(code: str, value: Any, of: Any = None, percent: Any = None) -> None:
        label = i18n.text(f"budget.indicator.{code}", lang)
        rows.append((outcomes.ambito_id, code, label, value, of, percent))

    for code in COUNTS[:3]:
        row(code, getattr(outcomes, code))
    for code in RATES:
        rate: Rate = getattr(outcomes, code)
        row(code, rate.count, rate.of, rate.percent)
    days = outcomes.days_to_every_service_active
    for measure in ("mean", "median", "max"):
        row(f"days_to_every_service_active.{measure}", getattr(days, measure), days.cases)
    for code in COUNTS[3:]:
        row(code, getattr(outcomes, code))
    target = outcomes.beneficiary_target
    row(
        "beneficiaries_to_date",
        outcomes.beneficiaries_to_date,
        target.count if target else None,
        target.percent if target else None,
    )
    return Table(OUTCOME_COLUMNS, tuple(rows))


def _number(value: Decimal | float | int | None) -> float | None:
    return None if value is None else float(value)


def spending_chart(spending: DistrictSpending, lang: str) -> dict[str, Any]:
    """Stacked bars: each quarter, what each funding source paid."""
    sources: dict[str, str] = {}
    for q in spending.quarters:
        for f in q.funding:
            sources.setdefault(f.funding_source, f.name)
    paid = {(q.quarter, f.funding_source): f.spent for q in spending.quarters for f in q.funding}
    return {
        "type": "bar",
        "format": "money",
        "stacked": True,
        "data": {
            "labels": [quarter_label(q.quarter, lang) for q in spending.quarters],
            "datasets": [
                {
                    "label": name,
                    "data": [
                        _number(paid.get((q.quarter, source), Decimal(0)))
                        for q in spending.quarters
                    ],
                }
                for source, name in sources.items()
            ],
        },
    }


def budget_chart(budget: DistrictBudget, lang: str) -> dict[str, Any]:
    """Horizontal stacked bars: each funding source's budget, spent and still available."""
    return {
        "type": "bar",
        "format": "money",
        "stacked": True,
        "indexAxis": "y",
        "data": {
            "labels": [f.name for f in budget.funding],
            "datasets": [
                {
                    "label": i18n.text("budget.col.speso", lang),
                    "data": [_number(f.spent) for f in budget.funding],
                },
                {
                    "label": i18n.text("budget.col.residuo", lang),
                    "data": [_number(max(f.remaining, Decimal(0))) for f in budget.funding],
                },
            ],
        },
    }


def progress_chart(progress: Progress, lang: str) -> dict[str, Any]:
    labels = [i18n.text("budget.col.beneficiari", lang)]
    values = [progress.beneficiaries]
    if progress.target is not None:
        labels.append(i18n.text("budget.col.obiettivo", lang))
        values.append(progress.target)
    return {
        "type": "bar",
        "format": "count",
        "indexAxis": "y",
        "data": {
            "labels": labels,
            "datasets": [{"label": i18n.text("budget.chart.persons", lang), "data": values}],
        },
    }


def outcomes_chart(outcomes: DistrictOutcomes, lang: str) -> dict[str, Any]:
    """Horizontal bars: the three rates, in percent of the cases they count."""
    shown = [(code, getattr(outcomes, code)) for code in RATES]
    return {
        "type": "bar",
        "format": "percent",
        "indexAxis": "y",
        "data": {
            "labels": [i18n.text(f"budget.indicator.{code}", lang) for code, _ in shown],
            "datasets": [
                {
                    "label": i18n.text("budget.chart.percent", lang),
                    "data": [rate.percent for _, rate in shown],
                }
            ],
        },
    }


def summaries(figures: Figures, lang: str) -> dict[str, str]:
    """What each chart shows, in words: the canvas's accessible name."""

    def money(v: Decimal) -> str:
        return i18n.money(v, lang)

    found: dict[str, str] = {}
    if figures.spending is not None:
        s = figures.spending
        found[SPESA] = i18n.text(
            "budget.summary.spesa", lang, quarters=len(s.quarters), total=money(s.total)
        )
    if figures.budget is not None:
        b = figures.budget
        found[FONTI] = i18n.text(
            "budget.summary.fonti",
            lang,
            spent=money(b.spent),
            amount=money(b.amount),
            percent=i18n.number(b.percent_spent, lang),
        )
    if figures.progress is not None:
        p = figures.progress
        key = "budget.summary.beneficiari" if p.target else "budget.summary.beneficiari_only"
        found[BENEFICIARI] = i18n.text(key, lang, n=p.beneficiaries, target=p.target or 0)
    if figures.outcomes is not None:
        o = figures.outcomes
        parts = []
        for code in RATES:
            rate: Rate = getattr(o, code)
            shown = (
                f"{i18n.number(rate.percent, lang)} %"
                if rate.percent is not None
                else i18n.text("budget.no_cases", lang)
            )
            parts.append(f"{i18n.text(f'budget.indicator.{code}', lang)}: {shown}")
        intro = i18n.text("budget.summary.esiti", lang, cases=o.cases)
        found[ESITI] = f"{intro} {'; '.join(parts)}."
    return found


def charts(figures: Figures, lang: str) -> dict[str, dict[str, Any]]:
    """Every chart's figures for ``static/charts.js``, by chart id."""
    found: dict[str, dict[str, Any]] = {}
    if figures.spending is not None and figures.spending.quarters:
        found[SPESA] = spending_chart(figures.spending, lang)
    if figures.budget is not None and figures.budget.funding:
        found[FONTI] = budget_chart(figures.budget, lang)
    if figures.progress is not None:
        found[BENEFICIARI] = progress_chart(figures.progress, lang)
    if figures.outcomes is not None:
        found[ESITI] = outcomes_chart(figures.outcomes, lang)
    return found


def tables(figures: Figures, lang: str) -> dict[str, Table]:
    found: dict[str, Table] = {}
    if figures.spending is not None:
        found[SPESA] = spending_table(figures.spending, lang)
    if figures.budget is not None:
        found[FONTI] = budget_table(figures.budget)
    if figures.progress is not None:
        found[BENEFICIARI] = progress_table(figures.progress)
    if figures.outcomes is not None:
        found[ESITI] = outcomes_table(figures.outcomes, lang)
    return found


# --- CSV -------------------------------------------------------------------------------------

CSV_DELIMITER: Final = spreadsheet.DELIMITER


def to_csv(table: Table) -> str:
    """Billing's kind of CSV (``cerniera.shared.spreadsheet``), one row per table row."""
    return spreadsheet.document([c.key for c in table.columns], table.rows)


# --- pages -----------------------------------------------------------------------------------


@router.get("/budget")
async def budget_page(
    request: Request,
    user: CurrentUser,
    ambito_id: Ambito = None,
    da: Since = None,
    a: Until = None,
) -> Response:
    await permit(request, user, Action.REPORTS_READ)
    scope = scope_of(user, ambito_id, da, a)
    figures = await gather(request, user, scope)
    lang = language(request)
    return render(
        request,
        "budget.html",
        user,
        active="budget",
        scope=scope,
        figures=figures,
        charts=charts(figures, lang),
        tables=tables(figures, lang),
        summaries=summaries(figures, lang),
        may_see_budget=user.principal.may(Action.BUDGET_READ),
        cell=_shown(lang),
        quarter=lambda code: quarter_label(code, lang),
        order=CHARTS,
    )


CSV_ACTION: Final = {
    SPESA: Action.REPORTS_READ,
    FONTI: Action.BUDGET_READ,  # the budget per funding source: the district's administration
    BENEFICIARI: Action.REPORTS_READ,
    ESITI: Action.REPORTS_READ,
}
"""What a chart's CSV asks of the reader, as the service that computes it grants it."""


@router.get("/budget/{chart}.csv")
async def chart_csv(
    request: Request,
    user: CurrentUser,
    chart: str,
    ambito_id: Ambito = None,
    da: Since = None,
    a: Until = None,
) -> Response:
    """A chart's figures as CSV, for the district and period of the page."""
    action = CSV_ACTION.get(chart)
    if action is None:
        raise NotFound("chart.unknown", i18n.text("error.not_found", language(request)))
    await permit(request, user, action)
    scope = scope_of(user, ambito_id, da, a)
    figures = await gather(request, user, scope, only=chart)
    table = tables(figures, language(request)).get(chart)
    if table is None:  # the service answered, but not for this district
        table = Table(COLUMNS[chart], ())
    return Response(
        content=to_csv(table),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{chart}-{scope.ambito_id}.csv"'},
    )


def _shown(lang: str) -> Callable[[Any, str], str]:
    """``cell(value, kind)``: a table cell in the reader's format."""

    def cell(value: Any, kind: str) -> str:
        if value is None:
            return "—"
        if kind == "money":
            return i18n.money(value, lang)
        if kind == "percent":
            return f"{i18n.number(value, lang)} %"
        if kind in ("count", "number"):
            return i18n.number(value, lang)
        if kind == "day":
            return i18n.day(value, lang)
        return str(value)

    return cell


def _register(words: Sequence[tuple[str, str, str]]) -> None:
    i18n.register({key: {"it": it, "en": en} for key, it, en in words})


_register(
    [
        ("budget.title", "Budget ed esiti", "Budget and outcomes"),
        (
            "budget.lead",
            "La spesa per fonte di finanziamento, le persone servite rispetto all'obiettivo "
            "del progetto e gli esiti dei casi, come li registrano i servizi dell'ambito.",
            "Spending per funding source, the persons served against the project's target and "
            "the outcomes of the cases, as the district's services record them.",
        ),
        ("budget.filter", "Ambito e periodo", "District and period"),
        ("budget.filter.ambito", "Ambito", "District"),
        ("budget.filter.since", "Dal giorno", "From"),
        ("budget.filter.until", "Al giorno", "To"),
        (
            "budget.filter.hint",
            "Facoltativo: la spesa per giorno di consegna, gli esiti per giorno di dimissione.",
            "Optional: spending by day of delivery, outcomes by discharge day.",
        ),
        ("budget.filter.button", "Aggiorna", "Update"),
        (
            "budget.error.day",
            "Una delle date non è valida (aaaa-mm-gg): il periodo è stato ignorato.",
            "One of the dates is not valid (yyyy-mm-dd): the period was ignored.",
        ),
        (
            "budget.error.period",
            "Il periodo finisce prima di cominciare: è stato ignorato.",
            "The period ends before it starts: it was ignored.",
        ),
        (
            "budget.unavailable",
            "Questi dati non sono disponibili ora (il servizio non risponde): riprovare tra poco.",
            "These figures are not available now (the service is not answering): try again "
            "shortly.",
        ),
        ("budget.quarter", "{roman} trimestre {year}", "Q{n} {year}"),
        ("budget.csv", "Scarica i dati (CSV)", "Download the figures (CSV)"),
        ("budget.table", "Gli stessi dati in tabella", "The same figures as a table"),
        ("budget.none", "Nessun dato per ora.", "No figures yet."),
        ("budget.no_cases", "nessun caso", "no cases"),
        ("budget.section.spesa", "Spesa per trimestre e fonte", "Spending per quarter and source"),
        (
            "budget.section.fonti",
            "Budget per fonte di finanziamento",
            "Budget per funding source",
        ),
        (
            "budget.section.fonti.hidden",
            "Il budget di ogni fonte è consultabile dall'Ufficio di Piano.",
            "Each source's budget is visible to the district's administration.",
        ),
        (
            "budget.section.beneficiari",
            "Persone servite rispetto all'obiettivo",
            "Persons served against the target",
        ),
        ("budget.section.esiti", "Esiti dei casi", "Outcomes of the cases"),
        ("budget.section.soglie", "Soglie di budget raggiunte", "Budget thresholds reached"),
        (
            "budget.soglie.none",
            "Nessuna soglia di budget raggiunta.",
            "No budget threshold reached.",
        ),
        ("budget.soglia.reached", "Soglia del {percent} % raggiunta", "{percent} % reached"),
        (
            "budget.period.outcomes",
            "Dimissioni dal {since} al {until}.",
            "Discharges from {since} to {until}.",
        ),
        ("budget.total", "Totale: {total}", "Total: {total}"),
        (
            "budget.unfunded",
            "Consegnato ma oltre ogni fonte: {amount}.",
            "Delivered but beyond every source: {amount}.",
        ),
        ("budget.chart.persons", "Persone", "Persons"),
        ("budget.chart.percent", "% dei casi", "% of cases"),
        (
            "budget.summary.spesa",
            "Grafico a barre della spesa per trimestre e fonte di finanziamento: {quarters} "
            "trimestri, totale {total}. I dati sono nella tabella sotto.",
            "Bar chart of spending per quarter and funding source: {quarters} quarters, total "
            "{total}. The figures are in the table below.",
        ),
        (
            "budget.summary.fonti",
            "Grafico a barre del budget per fonte: speso {spent} su {amount} ({percent} %). "
            "I dati sono nella tabella sotto.",
            "Bar chart of the budget per source: {spent} spent of {amount} ({percent} %). The "
            "figures are in the table below.",
        ),
        (
            "budget.summary.beneficiari",
            "Grafico a barre: {n} persone servite su un obiettivo di {target}.",
            "Bar chart: {n} persons served against a target of {target}.",
        ),
        (
            "budget.summary.beneficiari_only",
            "Grafico a barre: {n} persone servite; nessun obiettivo configurato.",
            "Bar chart: {n} persons served; no target configured.",
        ),
        (
            "budget.summary.esiti",
            "Grafico a barre degli esiti in percentuale, su {cases} casi dimessi.",
            "Bar chart of the outcomes in percent, of {cases} cases discharged.",
        ),
        ("budget.col.ambito_id", "Ambito", "District"),
        ("budget.col.trimestre", "Codice trimestre", "Quarter code"),
        ("budget.col.periodo", "Trimestre", "Quarter"),
        ("budget.col.fonte", "Codice fonte", "Source code"),
        ("budget.col.nome_fonte", "Fonte di finanziamento", "Funding source"),
        ("budget.col.speso", "Speso", "Spent"),
        ("budget.col.residuo", "Residuo", "Remaining"),
        ("budget.col.budget", "Budget", "Budget"),
        ("budget.col.percentuale_spesa", "Percentuale spesa", "Share spent"),
        ("budget.col.beneficiari", "Persone servite", "Persons served"),
        ("budget.col.obiettivo", "Obiettivo", "Target"),
        ("budget.col.anni", "Anni", "Years"),
        ("budget.col.dal", "Dal", "From"),
        ("budget.col.al", "Al", "To"),
        ("budget.col.percentuale", "Percentuale", "Percentage"),
        ("budget.col.indicatore", "Codice", "Code"),
        ("budget.col.descrizione", "Indicatore", "Indicator"),
        ("budget.col.valore", "Valore", "Value"),
        ("budget.col.su", "Su", "Out of"),
        ("budget.col.soglia", "Soglia", "Threshold"),
        ("budget.col.raggiunta", "Raggiunta il", "Reached on"),
        ("budget.indicator.cases", "Casi dimessi nel periodo", "Cases discharged in the period"),
        (
            "budget.indicator.beneficiaries",
            "Persone seguite nel periodo",
            "Persons followed in the period",
        ),
        ("budget.indicator.open", "Casi ancora in monitoraggio", "Cases still followed"),
        (
            "budget.indicator.readmitted_within_30_days",
            "Riammissione in ospedale entro 30 giorni dalla dimissione",
            "Readmitted to hospital within 30 days of discharge",
        ),
        (
            "budget.indicator.institutionalised",
            "Inserimento in struttura residenziale",
            "Admitted to a care home",
        ),
        (
            "budget.indicator.at_home_at_day_30",
            "A domicilio al trentesimo giorno",
            "At home on day 30",
        ),
        (
            "budget.indicator.days_to_every_service_active.mean",
            "Giorni dall'annuncio della dimissione a tutti i servizi attivi (media)",
            "Days from the discharge's announcement to every service running (mean)",
        ),
        (
            "budget.indicator.days_to_every_service_active.median",
            "Giorni dall'annuncio della dimissione a tutti i servizi attivi (mediana)",
            "Days from the discharge's announcement to every service running (median)",
        ),
        (
            "budget.indicator.days_to_every_service_active.max",
            "Giorni dall'annuncio della dimissione a tutti i servizi attivi (massimo)",
            "Days from the discharge's announcement to every service running (maximum)",
        ),
        (
            "budget.indicator.not_all_active",
            "Casi senza tutti i servizi attivi",
            "Cases without every service running",
        ),
        (
            "budget.indicator.bed_days_lost",
            "Giornate di degenza perse in attesa dei servizi",
            "Bed-days lost waiting for services",
        ),
        (
            "budget.indicator.cases_waiting_for_services",
            "Casi con rinvio della dimissione chiesto dall'équipe",
            "Cases whose discharge the team asked to postpone",
        ),
        (
            "budget.indicator.hand_overs",
            "Passaggi in carico al Comune",
            "Handed over to the municipality",
        ),
        (
            "budget.indicator.beneficiaries_to_date",
            "Beneficiari dall'avvio del progetto, rispetto all'obiettivo",
            "Beneficiaries since the project started, against the target",
        ),
    ]
)
