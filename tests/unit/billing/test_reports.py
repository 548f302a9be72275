"""The district's reports, pure: a plan's cost before it is confirmed, spending per quarter, the
beneficiary target, the funder's export and its CSV."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from cerniera.billing import reports, views
from cerniera.billing.config import Ambito, BeneficiaryTarget, FundingSource, load_config
from cerniera.billing.reports import PlannedService, Quarter, Served, Spent
from cerniera.billing.schemas import ForecastRequest
from cerniera.shared.contract import ServiceType
from cerniera.shared.refusals import Invalid
from support.billing_events import ALARM, MEALS, SAD, TELE
from support.districts import EXAMPLE

D = Decimal
PNRR, FNPS = "pnrr-m5c2-1.1.3", "fnps-2021-2022"
Q4_2026, Q1_2027 = Quarter(2026, 4), Quarter(2027, 1)


@pytest.fixture(scope="module")
def magentino() -> Ambito:
    return load_config(EXAMPLE).ambiti["magentino"]


@pytest.fixture(scope="module")
def desio() -> Ambito:
    return load_config(EXAMPLE).ambiti["desio"]


def funded(ambito: Ambito, *amounts: str) -> Ambito:
    ids = [PNRR, FNPS]
    sources = tuple(
        FundingSource(id=ids[i], name=ids[i], amount=D(a)) for i, a in enumerate(amounts)
    )
    return ambito.model_copy(update={"funding": sources})


# --- quarters ------------------------------------------------------------------------------------


def test_quarters_of_the_year() -> None:
    assert reports.quarter_of(date(2026, 12, 31)) == Q4_2026
    assert reports.quarter_of(date(2027, 1, 1)) == Q1_2027
    assert reports.quarter_of(date(2027, 6, 30)) == Quarter(2027, 2)
    assert (Q4_2026.code, Q4_2026.label) == ("2026-Q4", "IV trimestre 2026")
    assert (Q4_2026.start, Q4_2026.end) == (date(2026, 10, 1), date(2026, 12, 31))
    assert (Quarter(2028, 1).start, Quarter(2028, 1).end) == (date(2028, 1, 1), date(2028, 3, 31))
    assert Q4_2026 < Q1_2027


def test_a_period_that_ends_before_it_starts_is_refused() -> None:
    reports.check_period(date(2026, 10, 1), date(2026, 10, 1))
    reports.check_period(None, date(2026, 10, 1))
    with pytest.raises(Invalid) as refused:
        reports.check_period(date(2026, 12, 1), date(2026, 10, 1))
    assert refused.value.code == reports.PERIOD_INVALID


# --- forecast ------------------------------------------------------------------------------------


def test_a_plan_within_the_first_source_fits(magentino: Ambito) -> None:
    plan = [PlannedService(SAD, D(6)), PlannedService(MEALS, D(5)), PlannedService(ALARM, D(7))]
    found = reports.forecast(magentino, plan, 28, {PNRR: D("1000.00")})

    # 4 weeks: 24 h × 22.00 + 20 meals × 7.50 + 28 days × 0.40, at the district's tariffs.
    assert [(e.service_type, e.quantity, e.amount) for e in found.services] == [
        (SAD, D(24), D("528.00")),
        (MEALS, D(20), D("150.00")),
        (ALARM, D(28), D("11.20")),
    ]
    assert found.total == D("689.20")
    pnrr, fnps = found.sources
    assert (pnrr.remaining, pnrr.estimated_cost, pnrr.remaining_after) == (
        D("328995.00"),
        D("689.20"),
        D("328305.80"),
    )
    assert not pnrr.exceeds
    assert not fnps.exceeds
    assert fnps.estimated_cost == 0
    assert found.fits
    assert found.unfunded == 0
    assert pnrr.message.endswith("il piano ne userebbe 689,20 €, resterebbero 328.305,80 €.")
    assert fnps.message.endswith("il piano non la userebbe.")
    assert found.message == (
        "Costo stimato del piano per 28 giorni: 689,20 €. Rientra nel budget residuo di "
        "Ambito del Magentino."
    )


def test_a_plan_past_a_source_spills_to_the_next_and_then_is_unfunded(magentino: Ambito) -> None:
    small = funded(magentino, "500.00", "100.00")
    plan = [PlannedService(SAD, D(9))]  # 9 h a week for 4 weeks: 36 h × 22.00 = 792.00
    found = reports.forecast(small, plan, 28, {PNRR: D("300.00")})

    pnrr, fnps = found.sources
    assert (pnrr.remaining, pnrr.estimated_cost, pnrr.exceeds) == (D("200.00"), D("200.00"), True)
    assert (fnps.remaining, fnps.estimated_cost, fnps.exceeds) == (D("100.00"), D("100.00"), True)
    assert found.unfunded == D("492.00")
    assert not found.fits
    assert pnrr.message == (
        "pnrr-m5c2-1.1.3: residuo 200,00 €; il piano (stima 792,00 € a carico di questa fonte) "
        "la supererebbe di 592,00 €, che ricadrebbero sulla fonte successiva."
    )
    assert fnps.message.endswith("la supererebbe di 492,00 €, che resterebbero senza copertura.")
    assert "Attenzione: supera il budget residuo di Ambito del Magentino di 492,00 €" in (
        found.message
    )


def test_sad_hours_are_forecast_up_to_the_cap_per_person(desio: Ambito) -> None:
    found = reports.forecast(
        desio, [PlannedService(SAD, D(12)), PlannedService(TELE, D(7))], 70, {}
    )
    sad, tele = found.services
    assert (sad.quantity, sad.capped, sad.amount) == (D(80), True, D("1760.00"))
    assert (tele.quantity, tele.capped) == (D(70), False)
    assert "fino al tetto di 80 ore" in found.message


def test_a_spent_source_has_nothing_left_not_a_negative_remainder(magentino: Ambito) -> None:
    small = funded(magentino, "100.00")
    found = reports.forecast(small, [PlannedService(MEALS, D(1))], 7, {PNRR: D("100.00")})
    [pnrr] = found.sources
    assert (pnrr.remaining, pnrr.exceeds, found.unfunded) == (D(0), True, D("7.50"))


def test_a_forecast_request_has_weeks_or_days_and_each_service_once() -> None:
    sad = {"service_type": "sad", "weekly_quantity": 9}
    assert (
        ForecastRequest.model_validate(
            {"ambito_id": "desio", "services": [sad], "weeks": 4}
        ).total_days
        == 28
    )
    for wrong in (
        {"services": [sad]},
        {"services": [sad], "weeks": 4, "days": 28},
        {"services": [sad, sad], "days": 28},
        {"services": [], "days": 28},
        {"services": [{**sad, "weekly_quantity": 0}], "days": 28},
    ):
        with pytest.raises(ValidationError):
            ForecastRequest.model_validate({"ambito_id": "desio", **wrong})


# --- spending per quarter, the target ------------------------------------------------------------


def test_spending_lists_every_source_in_each_quarter_with_spending(magentino: Ambito) -> None:
    rows = [
        Spent("magentino", Q1_2027, FNPS, D("50.00"), 1),
        Spent("magentino", Q4_2026, PNRR, D("120.00"), 2),
        Spent("desio", Q4_2026, PNRR, D("999.00"), 9),  # another district's: not Magentino's
    ]
    q4, q1 = reports.by_quarter(magentino, rows)
    assert q4.quarter == Q4_2026
    assert [(f.funding_source, f.spent, f.beneficiaries) for f in q4.funding] == [
        (PNRR, D("120.00"), 2),
        (FNPS, D(0), 0),
    ]
    assert [(f.funding_source, f.spent) for f in q1.funding] == [(PNRR, D(0)), (FNPS, D("50.00"))]
    assert (q4.total, q1.total) == (D("120.00"), D("50.00"))


def test_progress_against_the_beneficiary_target(desio: Ambito) -> None:
    target = BeneficiaryTarget(count=125, years=3, since=date(2024, 2, 29))
    found = reports.progress(desio.model_copy(update={"beneficiary_target": target}), 2)
    assert found.percent == D("1.60")
    assert found.until == date(2027, 2, 28)
    assert found.message == "Ambito di Desio: 2 beneficiari su 125 previsti in 3 anni (1,60%)."

    without = reports.progress(desio.model_copy(update={"beneficiary_target": None}), 2)
    assert (without.percent, without.until) == (None, None)
    assert without.message == "Ambito di Desio: 2 beneficiari; nessun obiettivo configurato."


def test_the_target_is_read_from_the_districts_document(tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        "[ambiti.magentino]\n",
        "[ambiti.magentino]\nbeneficiary_target = { count = 90, years = 3 }\n",
    )

    path = tmp_path / "ambiti.toml"
    path.write_text(text, encoding="utf-8")
    target = load_config(path).ambiti["magentino"].beneficiary_target
    assert target == BeneficiaryTarget(count=90, years=3)


# --- the funder's export -------------------------------------------------------------------------


def served(
    case: str,
    quarter: Quarter,
    service: ServiceType,
    amount: str,
    *,
    person: str | None = "p-anna",
    start: date = date(2026, 12, 1),
    closed_on: date | None = None,
    ambito: str = "desio",
) -> Served:
    return Served(ambito, case, person, quarter, service, D(amount), start, closed_on)


def test_one_row_per_person_and_quarter_across_their_cases() -> None:
    rows = reports.funder_rows(
        [
            served("h1:V1", Q4_2026, MEALS, "75.00", closed_on=date(2026, 12, 30)),
            served("h1:V1", Q4_2026, SAD, "43.00", closed_on=date(2026, 12, 30)),
            # Readmitted, discharged again from another hospital: the same person.
            served("h2:V9", Q1_2027, SAD, "22.00", start=date(2027, 1, 11)),
            served("h1:V1", Q1_2027, SAD, "10.00", closed_on=date(2026, 12, 30)),
            served("h1:OLD", Q4_2026, TELE, "3.50", person=None, start=date(2026, 11, 2)),
        ]
    )
    assert [
        (r.beneficiary, r.quarter.code, r.start, r.end, r.services, r.spending) for r in rows
    ] == [
        ("h1:OLD", "2026-Q4", date(2026, 11, 2), None, (TELE,), D("3.50")),
        ("p-anna", "2026-Q4", date(2026, 12, 1), date(2026, 12, 30), (SAD, MEALS), D("118.00")),
        # One of the quarter's cases still open: no end yet.
        ("p-anna", "2027-Q1", date(2026, 12, 1), None, (SAD,), D("32.00")),
    ]


def test_the_funder_csv_is_semicolon_separated_and_runs_no_formula() -> None:
    rows = reports.funder_rows(
        [
            served(
                "h1:V1", Q4_2026, SAD, "43.00", person="=HYPERLINK(1)", closed_on=date(2026, 12, 30)
            ),
            served(
                "h1:V1",
                Q4_2026,
                MEALS,
                "7.50",
                person="=HYPERLINK(1)",
                closed_on=date(2026, 12, 30),
            ),
        ]
    )
    text = views.funder_csv(views.funder_rows_of(rows))
    parsed = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert text.endswith("\r\n")
    assert parsed[0] == [
        "beneficiary",
        "ambito_id",
        "quarter",
        "start",
        "end",
        "services",
        "spending",
    ]
    assert parsed[1] == [
        "'=HYPERLINK(1)",
        "desio",
        "2026-Q4",
        "2026-12-01",
        "2026-12-30",
        "sad,meals",
        "50.50",
    ]
