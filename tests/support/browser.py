"""The browser tests' tools: Debian's Chromium driven by Playwright, log-in through the real
identity provider, axe-core's accessibility check, and the layout checks of every screen.

Playwright's own browser download is not used (nor reachable everywhere): the tests drive the
system's Chromium, found by ``chromium_path``. A machine without it fails the tests with what
to install; it never skips them, so CI cannot pass without having run them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import shutil
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any, Final

import httpx
from playwright.async_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    Route,
    ViewportSize,
)
from playwright.async_api import TimeoutError as PlaywrightTimeout
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from cerniera.cli.devstack import DatabaseEndpoint, KafkaEndpoint
from cerniera.cli.identity.client import person_token
from cerniera.cli.synthetic import fiscal_code
from cerniera.shared.clock import ROME, Clock
from cerniera.shared.contract import (
    Assessment,
    DischargeAnnounced,
    HoursDelivered,
    ServiceActivationAccepted,
    Topics,
)
from cerniera.shared.contract.provenance import allowed_source
from cerniera.shared.envelope import Envelope
from cerniera.shared.runtime import ServiceRuntime
from cerniera.shared.settings import DatabaseSettings, KafkaSettings
from support.desk_login import PASSWORD
from support.discharges import announced_json, from_hospital
from support.kafka import publish
from support.waiting import eventually

REPO: Final = Path(__file__).resolve().parents[2]
CHROMIUM_CANDIDATES: Final = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
CHROMIUM_ARGS: Final = (
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # The machines have no network but loopback: without these Chromium keeps trying
    # Google's hosts in the background.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
AXE: Final = REPO / "services" / "desk" / "web" / "node_modules" / "axe-core" / "axe.min.js"
AXE_ROUTE: Final = "/__tests__/axe.min.js"
"""Where the tests serve axe-core to the page: on the page's own origin, so that it runs as
the page's own scripts do (no Content-Security-Policy to bypass)."""
WCAG_TAGS: Final = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")
BLOCKING_IMPACTS: Final = ("serious", "critical")
DESKTOP: Final[ViewportSize] = {"width": 1280, "height": 800}
TABLET: Final[ViewportSize] = {"width": 768, "height": 1024}
SCREENSHOTS: Final = REPO / "docs" / "screenshots"


class Missing(Exception):  # noqa: N818 - a state of the machine, reported as a failure
    """Something the browser tests need is not on this machine: the message says what and how
    to get it."""


def chromium_path(environ: Mapping[str, str] = os.environ) -> str:
    """The Chromium to drive: ``CHROMIUM_PATH`` when set, else Debian's or Ubuntu's."""
    given = environ.get("CHROMIUM_PATH")
    if given:
        if os.access(given, os.X_OK):
            return given
        raise Missing(
            f"CHROMIUM_PATH={given} is not an executable file. Point CHROMIUM_PATH at a "
            "Chromium or Chrome binary, or unset it to use /usr/bin/chromium "
            "(`apt-get install chromium` as root on Debian/Ubuntu)."
        )
    for candidate in CHROMIUM_CANDIDATES:
        if os.access(candidate, os.X_OK):
            return candidate
    raise Missing(
        "The browser tests need Chromium and found none at "
        f"{' or '.join(CHROMIUM_CANDIDATES)}. Install it with `apt-get install chromium` "
        "(as root, on Debian/Ubuntu; `apt-get update` first on a fresh machine), or set "
        "CHROMIUM_PATH to a Chromium or Chrome binary. Playwright's own browser download "
        "(`playwright install`) is not needed."
    )


def axe_path() -> Path:
    """axe-core, installed by npm from services/desk/web (``./cerniera test`` runs ``npm ci``
    there when node_modules is missing)."""
    if AXE.is_file():
        return AXE
    how = (
        "run `npm ci --prefix services/desk/web` (./cerniera test does it by itself)"
        if shutil.which("npm")
        else "install Node.js/npm (`apt-get install nodejs npm` as root on Debian/Ubuntu), "
        "then run ./cerniera test again (it runs `npm ci --prefix services/desk/web`)"
    )
    raise Missing(f"axe-core is not installed: {AXE.relative_to(REPO)} is missing; {how}.")


async def launch(playwright: Playwright) -> Browser:
    """Chromium headless, with a fresh profile of its own (Playwright makes one per launch)."""
    return await playwright.chromium.launch(
        executable_path=chromium_path(), headless=True, args=list(CHROMIUM_ARGS)
    )


async def new_context(browser: Browser, **options: Any) -> BrowserContext:
    """A context (cookies of its own) at 1280x800, Italian, Rome's time, serving axe-core."""
    context = await browser.new_context(
        viewport=options.pop("viewport", DESKTOP),
        locale="it-IT",
        timezone_id="Europe/Rome",
        **options,
    )
    context.set_default_timeout(10_000)
    axe = axe_path()

    async def serve_axe(route: Route) -> None:
        await route.fulfill(path=axe, content_type="application/javascript")

    await context.route(f"**{AXE_ROUTE}", serve_axe)
    return context


# --- people --------------------------------------------------------------------------------------

# The people the tests log in as: username → (name, roles, scope).
MAGENTINO_SOCIAL_WORKER = "as-laura-bianchi"
DESIO_SOCIAL_WORKER = "as-marco-riva"
MAGENTINO_ADMIN = "adm-anna-ferrari"
SAD_COORDINATOR = "coord-asc-magentino"
SAD_PROVIDER = "asc-servizi-alla-persona"
"""Magentino's first SAD provider in the example districts: the one a SAD request goes to."""
PEOPLE: dict[str, tuple[str, tuple[str, ...], dict[str, str]]] = {
    MAGENTINO_SOCIAL_WORKER: ("Laura Bianchi", ("equipe",), {"ambito_id": "magentino"}),
    DESIO_SOCIAL_WORKER: ("Marco Riva", ("equipe",), {"ambito_id": "desio"}),
    MAGENTINO_ADMIN: ("Anna Ferrari", ("district_admin",), {"ambito_id": "magentino"}),
    SAD_COORDINATOR: ("Chiara Conti", ("provider",), {"provider_id": SAD_PROVIDER}),
}


@dataclass
class Stack:
    """The system as one module's tests see it."""

    kafka: KafkaSettings
    database: DatabaseSettings
    topics: Topics
    issuer: str
    urls: dict[str, str]
    """Service name → its HTTP API (intake, activation, monitoring, billing)."""
    desk_url: str
    clock: Clock
    runtimes: dict[str, ServiceRuntime] = field(default_factory=dict)


async def log_in(page: Page, desk_url: str, username: str, path: str = "/") -> None:
    """Open ``path`` and log in as ``username`` on the identity provider's form, as a person
    does; back on the desk at ``path`` (or the user's home page for ``/``)."""
    await page.goto(f"{desk_url}{path}")
    await page.get_by_label("Utente").select_option(username)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Accedi").click()
    await page.wait_for_url(f"{desk_url}/**")
    await page.wait_for_load_state()


# --- checks --------------------------------------------------------------------------------------


async def accessibility_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.1 A/AA violations of the page as it is now, serious and critical
    ones only."""
    if not await page.evaluate("() => typeof window.axe !== 'undefined'"):
        origin = await page.evaluate("() => location.origin")
        await page.add_script_tag(url=f"{origin}{AXE_ROUTE}")
    found: list[dict[str, Any]] = await page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                nodes: v.nodes.map(n => ({target: n.target.join(' '),
                                          html: n.html.slice(0, 200),
                                          summary: n.failureSummary})),
            }));
        }""",
        list(WCAG_TAGS),
    )
    return [v for v in found if v["impact"] in BLOCKING_IMPACTS]


def describe_violations(where: str, violations: Sequence[Mapping[str, Any]]) -> str:
    lines = [f"{len(violations)} serious or critical accessibility violation(s) on {where}:"]
    for v in violations:
        lines.append(f"- [{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
        for node in v["nodes"][:5]:
            summary = " ".join(str(node["summary"] or "").split())
            lines.append(f"    at {node['target']}: {node['html']}\n      {summary}")
    return "\n".join(lines)


async def assert_accessible(page: Page, where: str) -> None:
    violations = await accessibility_violations(page)
    assert not violations, describe_violations(where, violations)


async def horizontal_overflow(page: Page) -> int:
    """How many pixels the page is wider than the window (0: nothing to scroll sideways)."""
    width: int = await page.evaluate(
        "() => document.documentElement.scrollWidth - window.innerWidth"
    )
    return max(width, 0)


async def assert_fits(page: Page, where: str, settle_ms: float = 2000) -> None:
    """Nothing wider than the window, once the page's own resize handlers have run (after a
    resize Chart.js redraws its canvases a few frames later: ``settle_ms`` at most)."""
    with contextlib.suppress(PlaywrightTimeout):
        await page.wait_for_function(
            "() => document.documentElement.scrollWidth <= window.innerWidth", timeout=settle_ms
        )
    overflow = await horizontal_overflow(page)
    if overflow:
        culprits = await page.evaluate(
            """() => [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
                .slice(0, 5)
                .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
                          + (e.className && typeof e.className === 'string'
                             ? '.' + e.className.trim().split(/\\s+/).join('.') : ''))"""
        )
        width = page.viewport_size["width"] if page.viewport_size else "?"
        raise AssertionError(
            f"{where} overflows sideways by {overflow}px at {width}px: {', '.join(culprits)}"
        )


async def mark_window(page: Page) -> None:
    """A marker on this window that a reload (or any navigation) would lose."""
    await page.evaluate("() => { window.__cernieraNoReload = true; }")


async def window_marked(page: Page) -> bool:
    return bool(await page.evaluate("() => window.__cernieraNoReload === true"))


async def screenshot(page: Page, name: str) -> Path | None:
    """docs/screenshots/<name>.png at 1280x800, only when CERNIERA_SCREENSHOTS=1 (normal runs
    leave the committed pictures alone)."""
    if os.environ.get("CERNIERA_SCREENSHOTS") != "1":
        return None
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    await page.set_viewport_size(DESKTOP)
    await page.screenshot(path=str(path), full_page=False, animations="disabled")
    return path


# --- the system under test ---------------------------------------------------------------------

SCHEMAS: Final = ("intake", "activation", "monitoring", "billing", "gateway", "desk")


def module_kafka(kafka: KafkaEndpoint) -> KafkaSettings:
    """As ``kafka_settings`` in tests/conftest.py, once for the module (its own topics)."""
    return KafkaSettings(
        bootstrap_servers=kafka.bootstrap_servers,
        enable_idempotence=kafka.supports_idempotence,
        topic_prefix=f"b{uuid.uuid4().hex[:10]}.",
        topic_partitions=3,
        session_timeout_ms=3000,
        heartbeat_interval_ms=1000,
    )


async def empty_database(database: DatabaseEndpoint) -> DatabaseSettings:
    """As ``database_settings`` in tests/conftest.py: every service schema dropped first."""
    engine = create_async_engine(database.url)
    async with engine.begin() as conn:
        for schema in SCHEMAS:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    await engine.dispose()
    return DatabaseSettings(database_url=database.url)


# --- cases, as the hospital, the team's API and the providers' systems make them -----------------


@dataclass(frozen=True)
class Patient:
    given_name: str
    family_name: str
    born: date
    sex: str
    municipality_code: str
    address: str
    phone: str

    @property
    def fiscal_code(self) -> str:
        return fiscal_code(
            random.Random(self.family_name), self.family_name, self.given_name, self.born, self.sex
        )


async def announce(
    stack: Stack,
    ref: str,
    patient: Patient,
    discharge_at: datetime,
    assessment: Assessment | None = None,
) -> str:
    """The ward announces the discharge (a caregiver present); the case id."""
    data = announced_json(
        discharge_ref=ref,
        municipality_code=patient.municipality_code,
        fiscal_code=patient.fiscal_code,
        expected_discharge_at=discharge_at,
        assessment=assessment,
    )
    data["patient"].update(
        given_name=patient.given_name,
        family_name=patient.family_name,
        birth_date=patient.born.isoformat(),
        address=patient.address,
        phone=patient.phone,
    )
    data["caregiver"] = {"present": True, "name": "Lucia Colombo", "phone": "+39 333 1234567"}
    # At the services' (simulated) time, as a ward's system would stamp it.
    event = replace(from_hospital(DischargeAnnounced.model_validate(data)), time=stack.clock.now())
    await publish(stack.kafka, stack.topics.hospital_discharges, event)
    assert event.subject is not None
    return event.subject


def discharge_in(stack: Stack, days: int, hour: int = 11) -> datetime:
    """A discharge ``days`` from the stack's today, at ``hour`` in Italy."""
    return datetime.combine(stack.clock.today() + timedelta(days=days), dtime(hour), ROME)


async def access_token(issuer: str, username: str) -> str:
    """``username``'s token through the real log-in flow (the account as registered)."""
    return await asyncio.to_thread(person_token, issuer, username)


async def call(
    stack: Stack, username: str, method: str, service: str, path: str, **options: Any
) -> Any:
    """``service``'s API as ``username``: the JSON answer (2xx), else the test fails."""
    token = await access_token(stack.issuer, username)
    async with httpx.AsyncClient(base_url=stack.urls[service], timeout=10) as client:
        response = await client.request(
            method, path, headers={"Authorization": f"Bearer {token}"}, **options
        )
    assert response.is_success, f"{method} {service}{path}: {response.status_code} {response.text}"
    return response.json() if response.content else None


async def until(
    stack: Stack,
    username: str,
    service: str,
    path: str,
    done: Callable[[Any], bool],
    what: str,
    timeout: float = 20,
) -> Any:
    """``service``'s answer at ``path`` once ``done`` holds (404 meanwhile is waiting)."""
    token = await access_token(stack.issuer, username)
    async with httpx.AsyncClient(base_url=stack.urls[service], timeout=10) as client:

        async def probe() -> Any:
            response = await client.get(path, headers={"Authorization": f"Bearer {token}"})
            return response.json() if response.status_code == 200 else None

        return await eventually(
            probe, lambda found: found is not None and done(found), timeout=timeout, what=what
        )


async def confirmed_by_team(
    stack: Stack, username: str, case_id: str, services: Sequence[tuple[str, float]]
) -> None:
    """The team confirms the rule's proposal with its own plan, through intake's API (for the
    tests whose subject comes after the decision)."""
    await until(
        stack,
        username,
        "intake",
        f"/cases/{case_id}",
        lambda case: case["status"] == "awaiting_confirmation",
        f"{case_id} awaiting the team's confirmation",
    )
    plan = [{"service_type": s, "weekly_quantity": q} for s, q in services]
    await call(
        stack,
        username,
        "POST",
        "intake",
        f"/cases/{case_id}/confirm",
        json={"services": plan, "reason": "Piano concordato con la famiglia."},
    )


async def request_of(stack: Stack, username: str, case_id: str, service_type: str) -> str:
    """The id of the activation request of ``service_type`` for the case, once sent."""
    readiness = await until(
        stack,
        username,
        "activation",
        f"/cases/{case_id}/readiness",
        lambda r: any(s["service_type"] == service_type and s["request_id"] for s in r["services"]),
        f"a {service_type} request for {case_id}",
    )
    (request_id,) = [
        s["request_id"] for s in readiness["services"] if s["service_type"] == service_type
    ]
    return str(request_id)


async def provider_system_reports(
    stack: Stack, case_id: str, data: ServiceActivationAccepted | HoursDelivered
) -> None:
    """What a provider's own system (not the portal) publishes on its reports topic."""
    event = Envelope(
        data=data,
        source=allowed_source(data),
        subject=case_id,
        id=str(uuid.uuid4()),
        time=stack.clock.now(),
    )
    await publish(stack.kafka, stack.topics.provider_reports(data.provider_id), event)
