"""The desk in a real browser (Debian's Chromium, driven by Playwright) on the whole system:
intake, activation, monitoring, billing and the desk on the real broker and database, people
logging in through the identity provider's form.

Each test makes its own case (the hospital's announcement on Kafka; where the test is about
what comes later, the earlier steps through the services' APIs) and drives the screens as the
person would: by roles and accessible names, so a control without a name fails here too.
Every main screen is checked with axe-core (WCAG 2.1 A/AA: no serious or critical
violation), at 1280x800 and at a tablet's 768x1024 (nothing wider than the window).
``CERNIERA_SCREENSHOTS=1`` saves the main screens to docs/screenshots.
"""

from __future__ import annotations

import asyncio
import re
import time
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from playwright.async_api import Browser, Locator, Page, expect

from cerniera.cli.pagebench import TARGET_MS, run_pagebench
from cerniera.shared.clock import ROME
from cerniera.shared.contract import HoursDelivered, ServiceActivationAccepted
from support.browser import (
    DESIO_SOCIAL_WORKER,
    MAGENTINO_ADMIN,
    MAGENTINO_SOCIAL_WORKER,
    SAD_COORDINATOR,
    SAD_PROVIDER,
    TABLET,
    Patient,
    Stack,
    announce,
    assert_accessible,
    assert_fits,
    call,
    confirmed_by_team,
    discharge_in,
    log_in,
    mark_window,
    new_context,
    provider_system_reports,
    request_of,
    screenshot,
    until,
    window_marked,
)
from support.discharges import DESIO, MAGENTA, assessment

pytestmark = [pytest.mark.browser, pytest.mark.integration]

SAD_PROVIDER_NAME = "Azienda Speciale Consortile Servizi alla Persona"


def magentino(given: str, family: str, born: date, sex: str = "F") -> Patient:
    return Patient(
        given, family, born, sex, MAGENTA, "Via Roma 12, 20013 Magenta (MI)", "+39 02 9790 1234"
    )


def desio(given: str, family: str, born: date, sex: str = "M") -> Patient:
    return Patient(
        given, family, born, sex, DESIO, "Via Garibaldi 4, 20832 Desio (MB)", "+39 0362 123456"
    )


async def shown_after_reloads(page: Page, locator: Locator, what: str, timeout: float = 25) -> None:
    """The read model catches up with the events in a moment: reload until ``locator`` shows
    (for the pages that are not live; the board is tested without reloads)."""
    deadline = time.monotonic() + timeout
    while not await locator.first.is_visible():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not shown on {page.url} after {timeout} s")
        await asyncio.sleep(0.4)
        await page.reload()


async def check_screen(page: Page, where: str, picture: str | None = None) -> None:
    """The checks every main screen gets: axe-core, no sideways scrolling at 1280 and at a
    tablet's width; and its picture for the docs when asked."""
    await assert_accessible(page, where)
    await assert_fits(page, f"{where} at 1280x800")
    if picture:
        await screenshot(page, picture)
    viewport = page.viewport_size
    await page.set_viewport_size(TABLET)
    try:
        await assert_fits(page, f"{where} at 768x1024")
    finally:
        if viewport:
            await page.set_viewport_size(viewport)
            await assert_fits(page, f"{where} back at 1280x800")


# --- (a) a new discharge: assessed, tailored and confirmed by Magentino's team -------------------


async def test_the_team_assesses_tailors_and_confirms_a_new_discharge(
    stack: Stack, page: Page
) -> None:
    person = magentino("Giovanna", "Ferri", date(1938, 5, 17))
    case_id = await announce(stack, "BR-A-1", person, discharge_in(stack, 7))

    await log_in(page, stack.desk_url, MAGENTINO_SOCIAL_WORKER)
    assert page.url == f"{stack.desk_url}/oggi"  # the team's home
    await expect(page.get_by_role("heading", name="Oggi", level=1)).to_be_visible()
    to_assess = page.get_by_role("region", name="Nuove dimissioni da valutare")
    await shown_after_reloads(
        page, to_assess.get_by_role("link", name="Giovanna Ferri"), "the new discharge on Oggi"
    )
    await expect(page.get_by_role("alert")).to_have_count(0)  # every list answered
    await check_screen(page, "Oggi")

    await to_assess.get_by_role("link", name=re.compile(r"^Valuta\s*:\s*Giovanna Ferri$")).click()
    await expect(
        page.get_by_role("heading", name="Caso di Giovanna Ferri", level=1)
    ).to_be_visible()
    assert case_id in page.url
    await check_screen(page, "the case page, to assess")

    # The Phase-2 answers (the rule is met: R1 "sì", four "sì"/"in parte" among the others).
    form = page.locator("form#valutazione")
    given = {"R1": "sì", "R2": "no", "R3": "sì", "R4": "in parte", "R5": "sì", "R6": "sì"}
    given |= {"R7": "sì", "R8": "in parte", "R9": "no"}
    for requirement, answer in given.items():
        group = form.get_by_role("group", name=f"{requirement} —")
        await group.get_by_label(answer, exact=True).check()
    await form.get_by_label("Punteggio BRASS (0–40)").fill("15")
    await form.get_by_role("button", name="Registra la valutazione").click()
    await expect(page.get_by_role("status")).to_contain_text("Valutazione registrata.")

    consent = page.locator("form#consenso")
    await shown_after_reloads(page, consent, "the consent form")
    await consent.get_by_role("group", name="Il consenso è").get_by_label("dato").check()
    await consent.get_by_role("group", name="Espresso da").get_by_label("la persona").check()
    await consent.get_by_role("button", name="Registra il consenso").click()
    await expect(page.get_by_role("status")).to_contain_text("Consenso registrato.")

    # The rule proposes the medium package (BRASS 15); the team tailors it: no meals (the
    # daughter is there at lunch), more SAD hours.
    confirm = page.locator("form#conferma")
    await shown_after_reloads(page, confirm, "the confirmation form")
    await expect(confirm.get_by_label("SAD: ore a settimana")).to_have_value("6")
    await confirm.get_by_label("SAD: ore a settimana").fill("8")
    await confirm.get_by_label("Pasti a settimana").fill("")
    await confirm.get_by_label("Perché il piano cambia").fill("Figlia presente a pranzo.")
    await confirm.get_by_role("button", name="Conferma il piano").click()
    await expect(page.get_by_role("status")).to_contain_text("Piano confermato.")

    # The requests go out: each service of the plan is asked of the district's first provider.
    services = page.get_by_test_id("services")
    sad = services.locator("tr[data-service='sad']")
    await shown_after_reloads(page, sad.and_(page.locator("[data-status='requested']")), "SAD")
    await expect(sad).to_contain_text(SAD_PROVIDER_NAME)
    await expect(sad.get_by_role("cell").nth(0)).to_have_text("8")
    await expect(services.locator("tr[data-service='teleassistance']")).to_have_attribute(
        "data-status", "requested"
    )
    await expect(services.locator("tr[data-service='meals']")).to_have_count(0)
    await expect(page.get_by_test_id("plan")).to_contain_text("Assistenza domiciliare (SAD): 8")
    await check_screen(page, "the case page, confirmed", "caso")

    decided = await call(stack, MAGENTINO_SOCIAL_WORKER, "GET", "intake", f"/cases/{case_id}")
    assert decided["status"] == "eligible"
    assert decided["decision"]["decided_by"] == MAGENTINO_SOCIAL_WORKER


# --- (b) a provider accepts a request and reports the hours, in the portal -----------------------


async def test_a_provider_accepts_a_request_and_reports_hours(stack: Stack, page: Page) -> None:
    person = magentino("Teresa", "Galbiati", date(1941, 2, 3))
    case_id = await announce(
        stack, "BR-B-1", person, discharge_in(stack, 6), assessment(brass_score=12)
    )
    await confirmed_by_team(stack, MAGENTINO_SOCIAL_WORKER, case_id, [("sad", 6)])
    today = stack.clock.today()

    await log_in(page, stack.desk_url, SAD_COORDINATOR)
    assert page.url == f"{stack.desk_url}/portale"  # a provider's home
    pending = page.get_by_role("region", name="Richieste da evadere")
    answer = pending.get_by_role("link", name="Rispondi alla richiesta per Teresa Galbiati")
    await shown_after_reloads(page, answer, "the request in the portal")
    await check_screen(page, "the portal")

    await answer.click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Richiesta per Teresa Galbiati")
    await check_screen(page, "a request in the portal")
    accept = page.get_by_role("region", name="Accettare la richiesta")
    await accept.get_by_label("Giorno di inizio").fill(today.isoformat())
    await accept.get_by_label("Ora di inizio").fill("09:00")
    await accept.get_by_role("button", name="Accetta e invia").click()
    await expect(page.get_by_role("status")).to_contain_text("richiesta accettata")

    # The acceptance reaches activation, which activates the service from that day.
    await until(
        stack,
        MAGENTINO_SOCIAL_WORKER,
        "activation",
        f"/cases/{case_id}/readiness",
        lambda r: r["ready"] and r["services"][0]["active_from"] == today.isoformat(),
        "the SAD service activated from today",
    )

    # The hours of the first day, reported with the keyboard alone.
    await page.goto(f"{stack.desk_url}/portale")
    report = page.get_by_role("link", name="Segnala una consegna per Teresa Galbiati")
    await shown_after_reloads(page, report, "the running service in the portal")
    await report.click()
    quantity = page.get_by_label("Ore prestate")
    await tab_to(page, quantity)
    await page.keyboard.type("2,5")
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("status")).to_contain_text("Consegna segnalata.")
    lines = page.get_by_role("region", name="Consegne segnalate per questo servizio")
    await shown_after_reloads(page, lines.get_by_role("row").nth(1), "the delivery's line")
    await expect(lines.get_by_role("row")).to_have_count(2)  # the header and the line
    await expect(lines.get_by_role("row").nth(1)).to_contain_text("2,5")
    await check_screen(page, "a service in the portal")

    # Billing priced it: the hours are on the provider's statement for the month.
    period = today.strftime("%Y-%m")
    statement = await until(
        stack,
        MAGENTINO_ADMIN,
        "billing",
        f"/statements/{SAD_PROVIDER}/{period}?ambito_id=magentino",
        lambda s: any(line["case_id"] == case_id for line in s["lines"]),
        "the delivery on the provider's statement",
    )
    (line,) = [line for line in statement["lines"] if line["case_id"] == case_id]
    assert (line["service_type"], line["delivered_on"]) == ("sad", today.isoformat())
    assert Decimal(str(line["quantity"])) == Decimal("2.5")
    assert line["status"] == "billed"

    await page.goto(f"{stack.desk_url}/portale")
    running = page.get_by_role("region", name="Servizi in corso")
    await expect(running.get_by_role("row", name="Teresa Galbiati")).to_contain_text(
        re.compile("Attivo|Accettato")
    )
    await screenshot(page, "portale")


async def tab_to(page: Page, target: Locator, most: int = 60) -> None:
    """Press Tab (on a page just opened: from its top) until ``target`` has the focus:
    reachable by keyboard, in a sensible number of steps."""
    for _ in range(most):
        await page.keyboard.press("Tab")
        if await target.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError(f"{target} not reached with {most} presses of Tab")


# --- (c) the board turns a case ready while it is open -------------------------------------------


async def test_the_board_shows_a_case_turn_ready_without_a_reload(stack: Stack, page: Page) -> None:
    person = magentino("Rosa", "Brambilla", date(1936, 9, 21))
    case_id = await announce(
        stack, "BR-C-1", person, discharge_in(stack, 5), assessment(brass_score=8)
    )
    await confirmed_by_team(stack, MAGENTINO_SOCIAL_WORKER, case_id, [("sad", 4)])
    request_id = await request_of(stack, MAGENTINO_SOCIAL_WORKER, case_id, "sad")

    await log_in(page, stack.desk_url, MAGENTINO_SOCIAL_WORKER, "/arrivi")
    await expect(page.get_by_role("heading", name="Dimissioni in arrivo", level=1)).to_be_visible()
    row = page.locator(f"tr[data-case-id='{case_id}']")
    await shown_after_reloads(page, row.and_(page.locator("[data-state='at_risk']")), "the row")
    await expect(row).to_have_attribute("data-ready", "false")
    await expect(row.get_by_role("link", name="Rosa Brambilla")).to_be_visible()
    await check_screen(page, "the board")
    # This window's stream of changes is open (the desk has answered it) before anything
    # changes; from here on, no reload.
    async with page.expect_response(lambda response: "/arrivi/eventi" in response.url):
        await page.reload()
    await expect(row).to_have_attribute("data-ready", "false")
    await mark_window(page)

    # The provider's own system accepts (on its Kafka topic): the board hears it live.
    start = datetime.combine(stack.clock.today(), datetime.min.time().replace(hour=9), ROME)
    await provider_system_reports(
        stack,
        case_id,
        ServiceActivationAccepted(
            request_id=request_id, provider_id=SAD_PROVIDER, scheduled_start=start
        ),
    )
    await expect(row).to_have_attribute("data-ready", "true", timeout=20_000)
    await expect(row.locator("td[data-service='sad']")).to_contain_text("pronto")
    await expect(page.get_by_test_id("board-live")).to_have_text("Aggiornato: Rosa Brambilla")
    assert await window_marked(page), "the board was reloaded"
    await screenshot(page, "arrivi")


# --- (d) a weekly check, recorded from Oggi ------------------------------------------------------


async def test_a_weekly_check_is_recorded(stack: Stack, page: Page) -> None:
    # Discharged eight days ago in Desio, where the rule decides: week 1 is due since yesterday.
    person = desio("Carlo", "Meroni", date(1939, 11, 8))
    case_id = await announce(
        stack, "BR-D-1", person, discharge_in(stack, -8, hour=10), assessment(brass_score=14)
    )
    await until(
        stack,
        DESIO_SOCIAL_WORKER,
        "monitoring",
        f"/cases/{case_id}",
        lambda c: c["status"] == "open",
        "the follow-up opened",
    )

    await log_in(page, stack.desk_url, DESIO_SOCIAL_WORKER)
    checks = page.get_by_role("region", name="Verifiche settimanali da fare")
    record = checks.get_by_role(
        "link", name=re.compile(r"^Registra la verifica\s*:\s*Carlo Meroni")
    )
    await shown_after_reloads(page, record, "the check due on Oggi")
    await screenshot(page, "oggi")
    await record.click()
    form = page.locator("form#verifica")
    await expect(form).to_be_visible()
    await form.get_by_role("group", name="Esito").get_by_label("situazione stabile").check()
    await form.get_by_label("Indicazione").select_option(label="continuare")
    await form.get_by_label("Note").fill("Casa in ordine, pasti regolari.")
    await form.get_by_role("button", name="Registra la verifica").click()
    await expect(page.get_by_role("status")).to_contain_text("Verifica registrata.")

    week_one = page.get_by_test_id("checks").locator("tr[data-week='1']")
    await shown_after_reloads(page, week_one.get_by_text("fatta"), "week 1 recorded")
    await expect(week_one).to_contain_text("situazione stabile")
    recorded = await call(stack, DESIO_SOCIAL_WORKER, "GET", "monitoring", f"/cases/{case_id}")
    (check,) = recorded["checks"]
    assert (check["week"], check["outcome"], check["recommendation"]) == (1, "stable", "continue")
    assert check["checked_by"] == DESIO_SOCIAL_WORKER


# --- (e) budget and outcomes: the charts hold billing's figures ----------------------------------


async def test_the_budget_chart_shows_what_billing_reports(stack: Stack, page: Page) -> None:
    person = magentino("Luigia", "Oldani", date(1943, 7, 30))
    case_id = await announce(
        stack, "BR-E-1", person, discharge_in(stack, 4), assessment(brass_score=12)
    )
    await confirmed_by_team(stack, MAGENTINO_SOCIAL_WORKER, case_id, [("sad", 6)])
    request_id = await request_of(stack, MAGENTINO_SOCIAL_WORKER, case_id, "sad")
    today = stack.clock.today()
    start = datetime.combine(today, datetime.min.time().replace(hour=8), ROME)
    await provider_system_reports(
        stack,
        case_id,
        ServiceActivationAccepted(
            request_id=request_id, provider_id=SAD_PROVIDER, scheduled_start=start
        ),
    )
    await until(
        stack,
        MAGENTINO_SOCIAL_WORKER,
        "activation",
        f"/cases/{case_id}/readiness",
        lambda r: r["ready"],
        "the SAD service accepted",
    )
    await provider_system_reports(
        stack,
        case_id,
        HoursDelivered(
            case_id=case_id,
            provider_id=SAD_PROVIDER,
            service_type="sad",
            delivered_on=today,
            quantity=Decimal(3),
            delivery_ref="BR-E-1-1",
        ),
    )
    await until(
        stack,
        MAGENTINO_ADMIN,
        "billing",
        f"/statements/{SAD_PROVIDER}/{today:%Y-%m}",
        lambda s: any(line["delivery_ref"] == "BR-E-1-1" for line in s["lines"]),
        "the delivery priced",
    )

    await log_in(page, stack.desk_url, MAGENTINO_ADMIN)
    assert page.url == f"{stack.desk_url}/budget"  # the administration's home

    async def billing_says() -> tuple[dict[str, Any], dict[str, Any]]:
        budgets = await call(
            stack, MAGENTINO_ADMIN, "GET", "billing", "/budget?ambito_id=magentino"
        )
        spending = await call(
            stack, MAGENTINO_ADMIN, "GET", "billing", "/reports/spending?ambito_id=magentino"
        )
        (budget,) = [b for b in budgets if b["ambito_id"] == "magentino"]
        (spent,) = [s for s in spending if s["ambito_id"] == "magentino"]
        return budget, spent

    # Other tests' deliveries may still be priced meanwhile: the page and billing agree once
    # both are read after the same moment.
    for _ in range(5):
        before = await billing_says()
        await page.reload()
        await page.wait_for_function("() => window.cernieraCharts && window.cernieraCharts.fonti")
        shown = await page.evaluate(
            """() => Object.fromEntries(Object.entries(window.cernieraCharts).map(([id, c]) =>
                [id, {labels: c.data.labels, datasets: c.data.datasets.map(d => d.data)}]))"""
        )
        if await billing_says() == before:
            break
    budget, spending = before
    assert budget["spent"]
    assert Decimal(str(budget["spent"])) > 0
    # The budget by funding source: spent and still available, in billing's own figures.
    fonti = shown["fonti"]
    assert fonti["labels"] == [f["name"] for f in budget["funding"]]
    assert fonti["datasets"][0] == [float(f["spent"]) for f in budget["funding"]]
    assert fonti["datasets"][1] == [max(float(f["remaining"]), 0.0) for f in budget["funding"]]
    # Spending per quarter and source.
    spesa = shown["spesa"]
    assert len(spesa["labels"]) == len(spending["quarters"])
    for n, source in enumerate(spending["quarters"][-1]["funding"]):
        assert spesa["datasets"][n][-1] == float(source["spent"]), source
    assert sum(sum(d) for d in spesa["datasets"]) == pytest.approx(float(spending["total"]))

    # Each chart is also a table, and a CSV.
    section = page.get_by_role("region", name="Budget per fonte di finanziamento")
    await expect(section.get_by_role("img")).to_be_visible()
    await expect(section.get_by_role("table")).to_contain_text(budget["funding"][0]["name"])
    csv_link = page.locator("a[href^='/budget/fonti.csv']")
    download = await page.request.get(f"{stack.desk_url}{await csv_link.get_attribute('href')}")
    assert download.ok
    assert "text/csv" in download.headers["content-type"]
    assert budget["funding"][0]["funding_source"] in await download.text()
    await check_screen(page, "budget and outcomes", "budget")


# --- (f) another district's case stays out of sight ----------------------------------------------


async def test_another_districts_case_is_not_visible(
    stack: Stack, page: Page, browser: Browser
) -> None:
    person = desio("Angelo", "Sala", date(1935, 1, 14))
    case_id = await announce(
        stack, "BR-F-1", person, discharge_in(stack, 3), assessment(brass_score=14)
    )
    # Desio's team sees it on its board: the desk has it.
    desio_team = await new_context(browser)
    try:
        desio_page = await desio_team.new_page()
        await log_in(desio_page, stack.desk_url, DESIO_SOCIAL_WORKER, "/arrivi")
        await shown_after_reloads(
            desio_page, desio_page.locator(f"tr[data-case-id='{case_id}']"), "Desio's row"
        )
    finally:
        await desio_team.close()

    await log_in(page, stack.desk_url, MAGENTINO_SOCIAL_WORKER, "/arrivi")
    await expect(page.get_by_role("heading", name="Dimissioni in arrivo", level=1)).to_be_visible()
    await expect(page.locator(f"[data-case-id='{case_id}']")).to_have_count(0)
    await expect(page.get_by_text("Angelo Sala")).to_have_count(0)
    await page.goto(f"{stack.desk_url}/oggi")
    await expect(page.get_by_role("heading", name="Oggi", level=1)).to_be_visible()
    await expect(page.locator(f"[data-case-id='{case_id}']")).to_have_count(0)
    await expect(page.get_by_text("Angelo Sala")).to_have_count(0)

    response = await page.goto(f"{stack.desk_url}/casi/{case_id}")
    assert response is not None
    assert response.status == 404
    await expect(page.get_by_role("heading", level=1)).to_have_text("Pagina non trovata.")
    await expect(page.get_by_text("Angelo Sala")).to_have_count(0)
    await check_screen(page, "the not-found page")


# --- the page benchmark, on this stack -----------------------------------------------------------


async def test_pagebench_times_every_main_page(stack: Stack) -> None:
    lines: list[str] = []
    results = await asyncio.to_thread(
        run_pagebench,
        stack.desk_url,
        issuer=stack.issuer,
        team=MAGENTINO_SOCIAL_WORKER,
        admin=MAGENTINO_ADMIN,
        provider=SAD_COORDINATOR,
        requests=3,
        out=lines.append,
    )
    assert {r.page for r in results} == {"oggi", "caso", "arrivi", "budget", "portale"}
    assert all(r.status == 200 for r in results), results
    assert all(len(r.samples_ms) == 3 and 0 < r.p50_ms <= r.p95_ms for r in results)
    (table,) = lines
    assert f"p95 under {TARGET_MS:.0f} ms" in table
    assert "caso" in table
