"""Billing's rules on the example districts (Desio, Magentino): pure, no I/O."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from cerniera.billing import domain
from cerniera.billing.config import Ambito, BillingConfig, FundingSource, load_config
from cerniera.billing.domain import (
    BUDGET_EXHAUSTED,
    CAP_EXCEEDED,
    CASE_CLOSED,
    PROVIDER_NOT_IN_DISTRICT,
    SERVICE_NOT_OFFERED,
    CaseState,
    Delivery,
    Grant,
    LineStatus,
    Portion,
    allocate,
    apportion,
    bill,
    cents,
    is_holiday,
    price,
    split_at_cap,
    surcharge_percent,
    thresholds_crossed,
)
from cerniera.shared.contract import ServiceType
from cerniera.shared.refusals import Invalid, NotFound, Refused
from support.billing_events import (
    ASC_MAGENTINO,
    MEALS,
    MELOGRANO,
    RISTORAZIONE,
    SAD,
    TELE,
    granted,
)
from support.districts import EXAMPLE

D = Decimal
WEEKDAY = date(2026, 12, 9)  # a Wednesday, no holiday
SATURDAY = date(2026, 12, 12)
SUNDAY = date(2026, 12, 13)
IMMACOLATA = date(2026, 12, 8)  # a Tuesday: Immaculate Conception
CHRISTMAS = date(2026, 12, 25)  # a Friday
PNRR, FNPS = "pnrr-m5c2-1.1.3", "fnps-2021-2022"


@pytest.fixture(scope="module")
def config() -> BillingConfig:
    return load_config(EXAMPLE)


@pytest.fixture(scope="module")
def desio(config: BillingConfig) -> Ambito:
    return config.ambiti["desio"]


@pytest.fixture(scope="module")
def magentino(config: BillingConfig) -> Ambito:
    return config.ambiti["magentino"]


def small(ambito: Ambito, *amounts: str) -> Ambito:
    """``ambito`` with tiny budgets, so one line crosses thresholds and sources."""
    ids = [PNRR, FNPS]
    return ambito.model_copy(
        update={
            "funding": tuple(
                FundingSource(id=ids[i], name=ids[i], amount=D(a)) for i, a in enumerate(amounts)
            )
        }
    )


def sad(
    quantity: str, day: date = WEEKDAY, *, provider: str = MELOGRANO, evening: bool = False
) -> Delivery:
    return Delivery(provider, SAD, day, D(quantity), evening)


def case(
    ambito: Ambito, used: str = "0", closed_on: date | None = None, grant: Grant | None = None
) -> CaseState:
    """A confirmed case; by default every line's service is activated without limit."""
    return CaseState(ambito.id, grant or granted(), closed_on=closed_on, sad_hours_used=D(used))


# --- tariffs -------------------------------------------------------------------------------------


def test_a_provider_tariff_overrides_the_district_default(desio: Ambito, magentino: Ambito) -> None:
    def tariff(ambito: Ambito, provider: str, service: ServiceType) -> Decimal:
        found = ambito.provider(provider)
        assert found is not None
        return ambito.tariff(found, service)

    assert tariff(desio, MELOGRANO, SAD) == D("21.50")  # its own
    assert tariff(desio, "coop-solidarieta-brianza", SAD) == D("22.00")  # the default
    assert tariff(desio, RISTORAZIONE, MEALS) == D("7.50")
    assert tariff(desio, "pasti-a-casa-desio", MEALS) == D("7.20")
    assert tariff(desio, "telesoccorso-lombardia", TELE) == D("0.50")
    assert tariff(desio, "croce-azzurra-teleassistenza", TELE) == D("0.55")
    assert tariff(magentino, "coop-ticino-assistenza", SAD) == D("21.00")
    assert tariff(magentino, ASC_MAGENTINO, SAD) == D("22.00")


def test_lines_are_priced_at_the_provider_tariff(desio: Ambito) -> None:
    sad_line = bill(desio, case(desio), sad("2"), {})
    meals = bill(desio, case(desio), Delivery(RISTORAZIONE, MEALS, WEEKDAY, D(5)), {})
    tele = bill(
        desio, case(desio), Delivery("croce-azzurra-teleassistenza", TELE, WEEKDAY, D(7)), {}
    )

    assert (sad_line.status, sad_line.unit_tariff, sad_line.amount) == (
        LineStatus.BILLED,
        D("21.50"),
        D("43.00"),
    )
    assert sad_line.allocations == (domain.Allocation(PNRR, D("43.00"), D(2)),)
    assert sad_line.portions() == [Portion(LineStatus.BILLED, D(2), D("43.00"), PNRR)]
    assert (meals.unit_tariff, meals.amount, meals.billed_amount) == (
        D("7.50"),
        D("37.50"),
        D("37.50"),
    )
    assert (tele.unit_tariff, tele.amount) == (D("0.55"), D("3.85"))
    assert sad_line.reasons == meals.reasons == ()


# --- surcharge -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (WEEKDAY, False),
        (SATURDAY, False),
        (SUNDAY, True),
        (IMMACOLATA, True),
        (CHRISTMAS, True),
        (date(2026, 12, 26), True),  # Santo Stefano
        (date(2026, 4, 6), True),  # Easter Monday
        (date(2026, 12, 7), False),  # Sant'Ambrogio: Milan's patron, not a national holiday
    ],
)
def test_holidays_are_sundays_and_italian_public_holidays(day: date, expected: bool) -> None:
    assert is_holiday(day) is expected


def test_the_surcharge_applies_to_evening_and_holiday_sad_hours_only(desio: Ambito) -> None:
    rules = desio.billing
    assert surcharge_percent(rules, SAD, WEEKDAY, False) == 0
    assert surcharge_percent(rules, SAD, WEEKDAY, True) == 10
    assert surcharge_percent(rules, SAD, SUNDAY, False) == 10
    assert surcharge_percent(rules, SAD, IMMACOLATA, False) == 10
    assert surcharge_percent(rules, SAD, CHRISTMAS, True) == 10  # not twice
    assert surcharge_percent(rules, MEALS, CHRISTMAS, False) == 0
    assert surcharge_percent(rules, TELE, SUNDAY, True) == 0


def test_surcharged_lines_are_priced_with_it(desio: Ambito) -> None:
    state = case(desio)
    evening = bill(desio, state, sad("1", evening=True), {})
    immacolata = bill(desio, state, sad("1.5", IMMACOLATA), {})
    christmas = bill(desio, state, sad("2", CHRISTMAS), {})
    meals = bill(desio, state, Delivery(RISTORAZIONE, MEALS, CHRISTMAS, D(5)), {})

    assert (evening.surcharge_percent, evening.amount) == (D(10), D("23.65"))
    assert (immacolata.surcharge_percent, immacolata.amount) == (D(10), D("35.48"))  # 35.475
    assert christmas.amount == D("47.30")
    assert (meals.surcharge_percent, meals.amount) == (D(0), D("37.50"))


# --- rounding ------------------------------------------------------------------------------------


def test_amounts_are_rounded_to_the_cent_half_up_once_per_line() -> None:
    assert price(D("0.15"), D("21.50")) == D("3.23")  # 3.225: half-up, not banker's 3.22
    assert price(D("0.25"), D("22.50")) == D("5.63")  # 5.625
    assert price(D("1.25"), D("21.50"), D(10)) == D("29.56")  # 29.5625
    assert price(D("0.33"), D("0.55")) == D("0.18")  # 0.1815
    assert price(D("0.33"), D("21.50"), D(10)) == D("7.80")  # 7.8045, not 7.10 + 0.71
    assert cents(D("2.345")) == D("2.35")
    assert cents(D("-2.345")) == D("-2.35")
    assert str(price(D(2), D("22.00"))) == "44.00"
    assert isinstance(price(D(1), D("7.50")), Decimal)


# --- the SAD cap ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("used", "quantity", "within", "beyond"),
    [
        ("0", "2", "2", "0"),
        ("78", "2", "2", "0"),
        ("79", "2", "1", "1"),
        ("79.5", "1.25", "0.5", "0.75"),
        ("80", "2", "0", "2"),
        ("85", "1", "0", "1"),
    ],
)
def test_split_at_cap(used: str, quantity: str, within: str, beyond: str) -> None:
    assert split_at_cap(D(used), D(quantity), D(80)) == (D(within), D(beyond))


def test_a_line_crossing_the_cap_is_split_79_plus_2(desio: Ambito) -> None:
    result = bill(desio, case(desio, used="79"), sad("2"), {})

    assert result.status is LineStatus.BILLED
    assert (result.priced_quantity, result.over_cap_quantity) == (D(1), D(1))
    assert result.cap_hours(SAD) == D(1)
    assert result.billed_amount == D("21.50")
    assert [r.code for r in result.reasons] == [CAP_EXCEEDED]
    assert result.portions() == [
        Portion(LineStatus.BILLED, D(1), D("21.50"), PNRR),
        Portion(LineStatus.REFUSED, D(1), D("21.50"), reason=result.reasons[0]),
    ]


def test_hours_beyond_the_cap_are_refused_and_never_billed(desio: Ambito) -> None:
    result = bill(desio, case(desio, used="80"), sad("3"), {})

    assert result.status is LineStatus.REFUSED
    assert result.allocations == ()
    assert result.billed_amount == 0
    assert result.cap_hours(SAD) == 0
    [portion] = result.portions()
    assert (portion.status, portion.quantity, portion.funding_source) == (
        LineStatus.REFUSED,
        D(3),
        None,
    )
    assert portion.reason is not None
    assert portion.reason.code == CAP_EXCEEDED


def test_the_cap_is_for_sad_hours_only(desio: Ambito) -> None:
    meals = bill(desio, case(desio, used="80"), Delivery(RISTORAZIONE, MEALS, WEEKDAY, D(90)), {})
    assert (meals.status, meals.priced_quantity, meals.over_cap_quantity) == (
        LineStatus.BILLED,
        D(90),
        D(0),
    )
    assert meals.cap_hours(MEALS) == 0


# --- refusals ------------------------------------------------------------------------------------


def test_a_provider_outside_the_district_is_refused(desio: Ambito) -> None:
    result = bill(desio, case(desio), sad("2", provider=ASC_MAGENTINO), {})

    assert result.status is LineStatus.REFUSED
    assert [r.code for r in result.reasons] == [PROVIDER_NOT_IN_DISTRICT]
    assert (result.unit_tariff, result.amount, result.allocations) == (None, D(0), ())


def test_a_service_the_provider_is_not_registered_for_is_refused(desio: Ambito) -> None:
    result = bill(desio, case(desio), Delivery(MELOGRANO, MEALS, WEEKDAY, D(5)), {})
    assert [r.code for r in result.reasons] == [SERVICE_NOT_OFFERED]
    assert result.status is LineStatus.REFUSED


def test_lines_delivered_after_the_closure_are_refused(desio: Ambito) -> None:
    closed = case(desio, closed_on=WEEKDAY)
    on_the_day = bill(desio, closed, sad("2", WEEKDAY), {})
    after = bill(desio, closed, sad("2", date(2026, 12, 10)), {})

    assert on_the_day.status is LineStatus.BILLED
    assert after.status is LineStatus.REFUSED
    assert [r.code for r in after.reasons] == [CASE_CLOSED]
    assert (after.allocations, after.cap_hours(SAD)) == ((), D(0))
    assert after.amount == D("43.00")  # what it would have been worth, shown, not paid


# --- funding sources -----------------------------------------------------------------------------


def test_allocate_spends_sources_in_order() -> None:
    sources = [
        FundingSource(id="a", name="A", amount=D(100)),
        FundingSource(id="b", name="B", amount=D(50)),
    ]
    assert allocate(D(30), sources, {}) == ([("a", D(30))], D(0))
    assert allocate(D(30), sources, {"a": D(90)}) == ([("a", D(10)), ("b", D(20))], D(0))
    assert allocate(D(30), sources, {"a": D(100)}) == ([("b", D(30))], D(0))
    assert allocate(D(30), sources, {"a": D(100), "b": D(40)}) == ([("b", D(10))], D(20))
    assert allocate(D(30), sources, {"a": D(100), "b": D(50)}) == ([], D(30))


def test_apportion_keeps_every_part_and_the_sum() -> None:
    assert apportion(D(2), [D(10), D(34)]) == [D("0.45"), D("1.55")]
    assert apportion(D(1), [D(1), D(1), D(1)]) == [D("0.33"), D("0.34"), D("0.33")]
    assert sum(apportion(D("0.01"), [D(5), D(5), D(5)])) == D("0.01")
    assert apportion(D(2), [D(44)]) == [D(2)]


def test_a_line_is_split_across_two_funding_sources(magentino: Ambito) -> None:
    spent = {PNRR: D("329985.00")}  # 10.00 left on the first source
    result = bill(magentino, case(magentino), sad("2", provider=ASC_MAGENTINO), spent)

    assert result.status is LineStatus.BILLED
    assert result.amount == result.billed_amount == D("44.00")
    assert result.allocations == (
        domain.Allocation(PNRR, D("10.00"), D("0.45")),
        domain.Allocation(FNPS, D("34.00"), D("1.55")),
    )
    assert [p.funding_source for p in result.portions()] == [PNRR, FNPS]
    assert result.reasons == ()


def test_spending_beyond_every_source_is_unfunded_not_paid(magentino: Ambito) -> None:
    budget = small(magentino, "100.00", "50.00")
    partly = bill(
        budget, case(budget), sad("2", provider=ASC_MAGENTINO), {PNRR: D(100), FNPS: D(40)}
    )
    nothing = bill(
        budget, case(budget), sad("2", provider=ASC_MAGENTINO), {PNRR: D(100), FNPS: D(50)}
    )

    assert partly.status is LineStatus.BILLED
    assert (partly.billed_amount, partly.unfunded_amount) == (D("10.00"), D("34.00"))
    assert [r.code for r in partly.reasons] == [BUDGET_EXHAUSTED]
    assert [(p.status, p.quantity, p.amount, p.funding_source) for p in partly.portions()] == [
        (LineStatus.BILLED, D("0.45"), D("10.00"), FNPS),
        (LineStatus.REFUSED, D("1.55"), D("34.00"), None),
    ]
    assert nothing.status is LineStatus.REFUSED
    assert (nothing.billed_amount, nothing.unfunded_amount) == (D(0), D("44.00"))
    assert [r.code for r in nothing.reasons] == [BUDGET_EXHAUSTED]
    # Delivered within the rules: the hours count toward the cap even though unfunded.
    assert nothing.cap_hours(SAD) == D(2)


# --- thresholds ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        ("0", "49.99", []),
        ("40", "60", [50]),
        ("49.99", "50", [50]),  # reaching it exactly counts
        ("50", "60", []),  # already past: never twice
        ("40", "85", [50, 80]),  # two with one line
        ("0", "100", [50, 80, 100]),
        ("99", "120", [100]),
    ],
)
def test_thresholds_crossed(before: str, after: str, expected: list[int]) -> None:
    assert thresholds_crossed(D(before), D(after), D(100), (50, 80, 100)) == expected


def test_a_line_crossing_two_thresholds_reports_both(magentino: Ambito) -> None:
    budget = small(magentino, "100.00", "50.00")
    result = bill(budget, case(budget), sad("2", provider=ASC_MAGENTINO), {PNRR: D(45)})

    assert [
        (t.funding_source, t.threshold_percent, t.spent, t.budget) for t in result.thresholds
    ] == [
        (PNRR, 50, D("89.00"), D("100.00")),
        (PNRR, 80, D("89.00"), D("100.00")),
    ]


def test_a_split_line_reports_thresholds_of_both_sources(magentino: Ambito) -> None:
    budget = small(magentino, "100.00", "50.00")
    result = bill(budget, case(budget), sad("2", provider=ASC_MAGENTINO), {PNRR: D(70)})

    # 30.00 ends the first source (80 % and 100 %), 14.00 opens the second (28 %: none).
    assert [(t.funding_source, t.threshold_percent) for t in result.thresholds] == [
        (PNRR, 80),
        (PNRR, 100),
    ]


# --- other statuses and statements ---------------------------------------------------------------


def test_duplicate_and_pending_lines_are_shown_never_paid() -> None:
    [dup] = domain.duplicate(D(2), "MEL-1").portions()
    [wait] = domain.pending(D(2)).portions()
    assert (dup.status, dup.amount, dup.reason and dup.reason.code) == (
        LineStatus.DUPLICATE,
        D(0),
        "delivery.duplicate",
    )
    assert (wait.status, wait.amount) == (LineStatus.PENDING, D(0))


def test_totals_count_only_billed_lines_as_paid(desio: Ambito) -> None:
    split = bill(desio, case(desio, used="79"), sad("2"), {})
    meals = bill(desio, case(desio), Delivery(RISTORAZIONE, MEALS, WEEKDAY, D(5)), {})
    dup = domain.duplicate(D(5), "R-1")
    sums = domain.totals(
        [(SAD, p) for p in split.portions()]
        + [(MEALS, p) for p in meals.portions() + dup.portions()]
    )

    assert list(sums) == [SAD, MEALS]
    assert (sums[SAD].billed_quantity, sums[SAD].billed_amount) == (D(1), D("21.50"))
    assert (sums[SAD].refused_quantity, sums[SAD].lines) == (D(1), 2)
    assert (sums[MEALS].billed_amount, sums[MEALS].lines, sums[MEALS].refused_quantity) == (
        D("37.50"),
        2,
        D(0),
    )


def test_period_bounds() -> None:
    assert domain.period_bounds("2026-12") == (date(2026, 12, 1), date(2027, 1, 1))
    assert domain.period_bounds("2027-02") == (date(2027, 2, 1), date(2027, 3, 1))
    assert domain.period_of(date(2026, 1, 31)) == "2026-01"


def test_only_a_month_that_is_over_is_issued() -> None:
    domain.check_period_over("2026-12", date(2027, 1, 1))
    for period in ["2027-01", "2027-02"]:
        with pytest.raises(Refused) as refused:
            domain.check_period_over(period, date(2027, 1, 31))
        assert refused.value.code == "period.not_over"
        assert type(refused.value) is Refused  # a 409, neither 404 nor 422


def test_issuing_counts_the_billed_deliveries_and_their_paid_amount(desio: Ambito) -> None:
    split = bill(desio, case(desio, used="79"), sad("2"), {})  # 1 h paid, 1 h over the cap
    meals = bill(desio, case(desio), Delivery(RISTORAZIONE, MEALS, WEEKDAY, D(5)), {})
    outsider = bill(desio, case(desio), sad("2", provider=ASC_MAGENTINO), {})

    assert domain.issued_figures(
        [split, meals, outsider, domain.duplicate(D(5), "R-1"), domain.pending(D(1))]
    ) == (D("59.00"), 2)
    assert domain.issued_figures([]) == (D(0), 0)


# --- cases and stored lines ----------------------------------------------------------------------


def test_the_closure_day_is_the_italian_one() -> None:
    late_evening = datetime(2026, 12, 28, 23, 30, tzinfo=UTC)  # 29 December in Rome
    closed = domain.Case("c", domain.CaseStatus.CONFIRMED, "desio", closed_at=late_evening)

    assert closed.closed_on == date(2026, 12, 29)
    assert domain.Case("c", domain.CaseStatus.UNKNOWN).closed_on is None


def test_a_line_priced_for_a_day_after_the_closure_is_taken_back(desio: Ambito) -> None:
    def line(day: date, billing: domain.Billing) -> domain.Line:
        return domain.Line(1, "c", "M-1", "desio", "corr", sad("2", day), billing)

    closure = date(2026, 12, 28)
    billed = bill(desio, case(desio), sad("2"), {})
    over_cap = bill(desio, case(desio, used="80"), sad("2"), {})  # priced, nothing within

    assert line(date(2026, 12, 29), billed).taken_back_by(closure)
    assert not line(closure, billed).taken_back_by(closure)  # the closure day is still paid
    assert not line(date(2026, 12, 29), billed).taken_back_by(None)
    assert not line(date(2026, 12, 29), over_cap).taken_back_by(closure)
    refused_whole = domain.not_eligible(D(2), "c")
    assert not line(date(2026, 12, 29), refused_whole).taken_back_by(closure)


def test_a_line_of_a_case_not_eligible_is_refused_as_a_whole() -> None:
    billing = domain.not_eligible(D(2), "asst-vimercate:V1")
    [portion] = billing.portions()

    assert (billing.status, billing.billed_amount, billing.cap_hours(SAD)) == (
        LineStatus.REFUSED,
        D(0),
        D(0),
    )
    assert (portion.status, portion.quantity) == (LineStatus.REFUSED, D(2))
    assert portion.reason is not None
    assert portion.reason.code == "case.not_eligible"


# --- refusals ------------------------------------------------------------------------------------


def test_an_unknown_district_is_refused(config: BillingConfig) -> None:
    assert domain.district(config, "desio").id == "desio"
    with pytest.raises(NotFound) as refused:
        domain.district(config, "atlantide")
    assert refused.value.code == "ambito.unknown"


@pytest.mark.parametrize(
    ("provider", "ambito_id", "kind", "code"),
    [
        ("telesoccorso-lombardia", None, Invalid, "statement.ambito_required"),  # two districts
        ("coop-il-melograno", "magentino", NotFound, "provider.not_in_district"),
        ("nobody", None, NotFound, "provider.unknown"),
        ("coop-il-melograno", "atlantide", NotFound, "ambito.unknown"),
    ],
)
def test_a_statement_without_one_paying_district_is_refused(
    config: BillingConfig,
    provider: str,
    ambito_id: str | None,
    kind: type[Refused],
    code: str,
) -> None:
    with pytest.raises(kind) as refused:
        domain.paying_district(config, provider, ambito_id)
    assert refused.value.code == code


def test_the_paying_district_of_a_statement(config: BillingConfig) -> None:
    assert domain.paying_district(config, "coop-il-melograno", None).id == "desio"
    assert domain.paying_district(config, "telesoccorso-lombardia", "magentino").id == "magentino"


# --- authorisation: an activated service, its period, its weekly quantity ------------------------

ACTIVE_FROM = date(2026, 12, 7)  # a Monday


def grant(*periods: tuple[date | None, date | None], weekly: str = "6", **kw: object) -> Grant:
    authorisations = tuple(
        domain.Authorisation(f"r-{n}", start, until) for n, (start, until) in enumerate(periods)
    )
    counted: tuple[tuple[date, Decimal], ...] = kw.get("counted", ())  # type: ignore[assignment]
    return Grant(D(weekly), authorisations, counted)


def test_a_delivery_with_no_activation_is_refused_whole_and_not_paid(desio: Ambito) -> None:
    for never in (grant(), grant((None, date(2026, 12, 20)))):  # only a deactivation known
        result = bill(desio, case(desio, grant=never), sad("2"), {})
        [portion] = result.portions()
        assert (result.status, result.billed_amount) == (LineStatus.REFUSED, D(0))
        assert (portion.status, portion.amount) == (LineStatus.REFUSED, D("43.00"))
        assert portion.reason is not None
        assert portion.reason.code == domain.NOT_AUTHORISED
        assert "Nessuna attivazione" in portion.reason.text
        assert (result.cap_hours(SAD), result.counted_quantity) == (D(0), D(0))


def test_a_delivery_outside_the_activated_period_is_refused(desio: Ambito) -> None:
    activated = grant((ACTIVE_FROM, date(2026, 12, 18)))
    before = bill(desio, case(desio, grant=activated), sad("2", date(2026, 12, 4)), {})
    first = bill(desio, case(desio, grant=activated), sad("2", ACTIVE_FROM), {})
    last = bill(desio, case(desio, grant=activated), sad("2", date(2026, 12, 18)), {})
    after = bill(desio, case(desio, grant=activated), sad("2", date(2026, 12, 21)), {})

    for refused_line in (before, after):
        assert refused_line.status is LineStatus.REFUSED
        assert [r.code for r in refused_line.reasons] == [domain.OUTSIDE_PERIOD]
        assert "dal 07/12/2026 al 18/12/2026" in refused_line.reasons[0].text
    assert (first.status, last.status) == (LineStatus.BILLED, LineStatus.BILLED)
    assert first.counted_quantity == D(2)


def test_a_second_activation_after_a_readmission_authorises_its_own_period(
    desio: Ambito,
) -> None:
    twice = grant((ACTIVE_FROM, date(2026, 12, 10)), (date(2026, 12, 21), None))
    between = bill(desio, case(desio, grant=twice), sad("1", date(2026, 12, 15)), {})
    again = bill(desio, case(desio, grant=twice), sad("1", date(2026, 12, 22)), {})
    assert (between.status, again.status) == (LineStatus.REFUSED, LineStatus.BILLED)


def test_a_service_outside_the_package_is_not_authorised(desio: Ambito) -> None:
    outside = Grant(None, (domain.Authorisation("r", ACTIVE_FROM),))
    result = bill(desio, case(desio, grant=outside), sad("1"), {})
    assert [r.code for r in result.reasons] == [domain.NOT_AUTHORISED]


def test_a_line_beyond_the_weeks_authorised_quantity_is_refused(desio: Ambito) -> None:
    # 6 h a week; Monday 7 and Wednesday 9 December already counted 2 + 3.
    week = [(ACTIVE_FROM, D(2)), (date(2026, 12, 9), D(3))]
    last_week = [(date(2026, 12, 4), D(6))]  # the week before does not count
    activated = grant((date(2026, 12, 1), None), counted=(*week, *last_week))
    fits = bill(desio, case(desio, grant=activated), sad("1", date(2026, 12, 11)), {})
    beyond = bill(desio, case(desio, grant=activated), sad("1.5", date(2026, 12, 13)), {})
    next_week = bill(desio, case(desio, grant=activated), sad("6", date(2026, 12, 14)), {})

    assert fits.status is LineStatus.BILLED
    assert next_week.status is LineStatus.BILLED
    assert beyond.status is LineStatus.REFUSED
    assert beyond.billed_amount == D(0)
    [reason] = beyond.reasons
    assert reason.code == domain.OVER_QUANTITY
    assert reason.text == (
        "Settimana dal 07/12/2026: autorizzate 6 ore, già riconosciute 5; "
        "questa riga di 1,5 le supera."
    )


def test_weeks_are_calendar_weeks_from_monday() -> None:
    assert domain.week_of(date(2026, 12, 13)) == (date(2026, 12, 7), date(2026, 12, 14))
    assert domain.week_of(date(2026, 12, 14)) == (date(2026, 12, 14), date(2026, 12, 21))


def test_lines_refused_for_want_of_an_activation_wait_for_one() -> None:
    def line(billing: domain.Billing) -> domain.Line:
        return domain.Line(1, "c", "M-1", "desio", "corr", sad("2"), billing)

    never = domain.refused(D(2), domain.NOT_AUTHORISED, "x")
    outside = domain.refused(D(2), domain.OUTSIDE_PERIOD, "x")
    over = domain.refused(D(2), domain.OVER_QUANTITY, "x")
    assert line(never).awaits_activation()
    assert line(outside).awaits_activation()
    assert not line(over).awaits_activation()
    assert not line(domain.not_eligible(D(2), "c")).awaits_activation()
    assert not line(domain.pending(D(2))).awaits_activation()


# --- plans: the one confirmed, then each revision from its day -----------------------------------


def test_the_plan_in_force_is_the_latest_version_already_in_force() -> None:
    confirmed = domain.Plan(1, {"sad": D(6), "meals": D(5)})
    revised = domain.Plan(2, {"sad": D(9), "emergency_alarm": D(7)}, date(2026, 12, 10))
    stopped = domain.Plan(3, {}, date(2026, 12, 20))
    case_ = domain.Case(
        "c", domain.CaseStatus.CONFIRMED, "desio", plans=(stopped, confirmed, revised)
    )

    assert domain.plan_on(case_.plans, date(2026, 12, 9)) == confirmed
    assert case_.weekly_quantity(SAD, date(2026, 12, 9)) == D(6)
    assert case_.weekly_quantity(SAD, date(2026, 12, 10)) == D(9)
    assert case_.weekly_quantity(MEALS, date(2026, 12, 10)) is None  # no meals in version 2
    assert case_.weekly_quantity(ServiceType.EMERGENCY_ALARM, date(2026, 12, 19)) == D(7)
    assert case_.weekly_quantity(SAD, date(2026, 12, 20)) is None  # every service stopped
    assert domain.plan_on((), date(2026, 12, 9)) is None


def test_a_service_the_revised_plan_dropped_is_refused_in_italian(desio: Ambito) -> None:
    dropped = Grant(None, (domain.Authorisation("r", ACTIVE_FROM),))
    result = bill(desio, case(desio, grant=dropped), sad("1", date(2026, 12, 11)), {})
    [reason] = result.reasons
    assert reason.code == domain.NOT_AUTHORISED
    assert reason.text == "Il servizio sad non è nel piano del caso in vigore il 11/12/2026."


def test_the_emergency_alarm_is_priced_at_its_own_tariff(desio: Ambito) -> None:
    alarm = Delivery("telesoccorso-lombardia", ServiceType.EMERGENCY_ALARM, WEEKDAY, D(7))
    result = bill(desio, case(desio), alarm, {})
    assert result.status is LineStatus.BILLED
    assert (result.unit_tariff, result.billed_amount) == (D("0.40"), D("2.80"))
    assert result.cap_hours(ServiceType.EMERGENCY_ALARM) == D(0)  # not SAD: no cap


def test_the_cap_and_budget_refusals_read_in_italian(desio: Ambito) -> None:
    over = bill(small(desio, "10.00"), case(desio, used="79"), sad("2"), {})
    cap, budget = over.reason(CAP_EXCEEDED), over.reason(BUDGET_EXHAUSTED)
    assert cap is not None
    assert budget is not None
    assert cap.text == (
        "Tetto SAD di 80 ore per persona: già riconosciute 79 ore, 1 delle 2 ore di questa "
        "riga non pagate."
    )
    assert budget.text == (
        "Tutte le fonti di finanziamento dell'ambito desio sono esaurite: 11,50 € di questa "
        "riga senza copertura."
    )


@pytest.mark.parametrize(
    ("amount", "text"),
    [("0", "0,00 €"), ("2.8", "2,80 €"), ("1234.5", "1.234,50 €"), ("237600", "237.600,00 €")],
)
def test_euros_are_written_the_italian_way(amount: str, text: str) -> None:
    assert domain.euro(D(amount)) == text
