"""The district team's pages (équipe): what to do today, each case with the forms to act on
it, and the board of the coming discharges, updated live.

Reads come from the desk's read model, scoped to the user's districts (another district's
case answers the 404 page, and is never listed), and from the owning services with the user's
own token where only they know (intake's cases waiting for the team, its proposal). Every
form posts here; the desk checks it (``forms``), sends it to the owning service with the
user's token, and answers with the case page: a notice after a redirect, or the form again
with what is wrong.
"""

from __future__ import annotations

import asyncio
import functools
import json
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Final
from urllib.parse import quote

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response, StreamingResponse

from cerniera.desk import queries
from cerniera.desk.auth import CurrentUser, User
from cerniera.desk.casefile import CaseView, ServiceStatus, Stage
from cerniera.desk.live import Change
from cerniera.desk.readiness import (
    CaseReadiness,
    CheckSchedule,
    case_readiness,
    checks_due,
    discharge_day,
    open_escalations,
    plan_services,
    weekly_checks,
)
from cerniera.desk.services import ServiceRefused, ServiceUnavailable
from cerniera.desk.web import forms, i18n
from cerniera.desk.web import team_words as _words  # noqa: F401 - registers the words
from cerniera.desk.web.forms import Checked, FormState, Submitted
from cerniera.desk.web.pages import language, permit, render
from cerniera.shared.access import Action
from cerniera.shared.ambiti import district_tables, load_document
from cerniera.shared.clock import ROME
from cerniera.shared.refusals import NotFound

router = APIRouter(include_in_schema=False)

BOARD_PAST_DAYS: Final = 2
BOARD_NEXT_DAYS: Final = 14
"""The board shows the discharges from two days ago to two weeks ahead."""
HEARTBEAT_S: Final = 15.0
STREAM_MAX_S: Final = 600.0
"""A live stream ends after this long; the browser reconnects at once (and catches up)."""
WAITING: Final = ("awaiting_assessment", "awaiting_confirmation", "awaiting_consent")
"""Intake's states in which the case waits for the team."""
ENDED_IN_INTAKE: Final = ("cancelled", "readmitted", "closed")
OPEN_STAGES: Final = (Stage.ANNOUNCED, Stage.CONFIRMED)
_CASE_SAFE = "/:@-._~!$&'()*+,;="


# --- the read model and the clock --------------------------------------------------------


def _engine(request: Request) -> Any:
    return request.app.state.runtime.engine


def _today(request: Request) -> date:
    today: date = request.app.state.runtime.clock.today()
    return today


def _now(request: Request) -> datetime:
    now: datetime = request.app.state.runtime.clock.now()
    return now


def _day_start(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), ROME)


# --- the districts' registry: providers' names and the monitoring calendar ------------------


@functools.cache
def _districts() -> dict[str, dict[str, Any]]:
    return district_tables(load_document())


@functools.cache
def _provider_names() -> dict[str, str]:
    return {
        p["id"]: str(p.get("name", p["id"]))
        for d in _districts().values()
        for p in d.get("providers", [])
    }


def provider_name(provider_id: str | None) -> str:
    if provider_id is None:
        return "—"
    return _provider_names().get(provider_id, provider_id)


def providers_for(ambito_id: str | None, service_type: str) -> list[tuple[str, str]]:
    """The district's providers of ``service_type``: (id, name), in the registry's order."""
    district = _districts().get(ambito_id or "", {})
    return [
        (p["id"], str(p.get("name", p["id"])))
        for p in district.get("providers", [])
        if service_type in p.get("services", ())
    ]


def schedule_of(ambito_id: str | None) -> CheckSchedule:
    rule = _districts().get(ambito_id or "", {}).get("monitoring", {})
    default = CheckSchedule()
    return CheckSchedule(
        interval_days=int(rule.get("check_interval_days", default.interval_days)),
        duration_days=int(rule.get("duration_days", default.duration_days)),
        overdue_after_days=int(rule.get("overdue_after_days", default.overdue_after_days)),
    )


def district_name(ambito_id: str | None) -> str:
    return str(_districts().get(ambito_id or "", {}).get("name", ambito_id or "—"))


# --- helpers the templates use --------------------------------------------------------------


def case_url(case_id: str, suffix: str = "") -> str:
    return f"/casi/{quote(case_id, safe=_CASE_SAFE)}{suffix}"


def _service_path(case_id: str, suffix: str = "") -> str:
    return f"/cases/{quote(case_id, safe=_CASE_SAFE)}{suffix}"


def _helpers(lang: str) -> dict[str, Any]:
    """What every team template uses besides ``render``'s own."""

    def options(prefix: str, codes: Iterable[Any]) -> list[tuple[str, str]]:
        return [(str(c), i18n.text(f"{prefix}.{c}", lang)) for c in codes]

    def names(prefix: str, codes: Iterable[Any]) -> str:
        return ", ".join(label for _, label in options(prefix, codes)) or "—"

    return {
        "case_url": case_url,
        "provider_name": provider_name,
        "district_name": district_name,
        "days_text": lambda days: _days_text(days, lang),
        "who": lambda actor: _who(actor, lang),
        "qty": quantity_text,
        "at": moment_of,
        "options": options,
        "names": names,
        "forms": forms,
    }


def quantity_text(value: float | int | str | None) -> str:
    """A weekly quantity as a form shows it and reads it back ("9", "4.5")."""
    if value is None:
        return "—"
    number = float(value)
    return str(int(number)) if number.is_integer() else f"{number:g}"


def moment_of(value: datetime | str | None) -> datetime | None:
    """A moment the services answer as text, or the view holds as one."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


def _days_text(days: int | None, lang: str) -> str:
    """ "tra 3 giorni", "oggi", "2 giorni fa"."""
    if days is None:
        return "—"
    if days == 0:
        return i18n.text("days.today", lang)
    if days == 1:
        return i18n.text("days.tomorrow", lang)
    if days == -1:
        return i18n.text("days.yesterday", lang)
    if days > 0:
        return i18n.text("days.in", lang, n=days)
    return i18n.text("days.ago", lang, n=-days)


def _person(view: CaseView | None, case_id: str) -> str:
    if view is not None and view.person is not None:
        return view.person.full_name
    return case_id


def _notice(request: Request, template: str) -> str | None:
    """The notice of the action just done, shown once, by the next whole page."""
    if template.startswith("_"):
        return None
    notice = request.session.pop("notice", None)
    return notice if isinstance(notice, str) and notice in _NOTICES else None


def _page(
    request: Request, template: str, user: User, *, status_code: int = 200, **context: Any
) -> Response:
    return render(
        request,
        template,
        user,
        status_code=status_code,
        notice=_notice(request, template),
        **_helpers(language(request)),
        **context,
    )


# --- Oggi: what the team has to do today ----------------------------------------------------


@dataclass
class Waiting:
    """Intake's cases in one waiting state (``None``: intake did not answer)."""

    status: str
    items: list[dict[str, Any]] | None


@router.get("/oggi")
async def today_page(request: Request, user: CurrentUser) -> Response:
    await permit(request, user, Action.CASE_READ)
    today = _today(request)
    waiting = await asyncio.gather(*(_waiting(request, user, s) for s in WAITING))
    listed = {item["case_id"] for w in waiting for item in (w.items or [])}
    async with _engine(request).connect() as conn:
        confirmed = await queries.cases(conn, user.principal.ambiti, [Stage.CONFIRMED], limit=2000)
        known = {v.case_id: v for v in confirmed}
        for case_id in listed - known.keys():
            found = await queries.case_view(conn, case_id)
            if found is not None:
                known[case_id] = found
    schedules = {a: schedule_of(a) for a in user.principal.ambiti}
    networks = [v for v in confirmed if v.network_task and v.network_task.completed_at is None]
    return _page(
        request,
        "oggi.html",
        user,
        active="oggi",
        today=today,
        waiting=waiting,
        people={case_id: _person(known.get(case_id), case_id) for case_id in listed | known.keys()},
        escalations=open_escalations(confirmed, today),
        checks=checks_due(confirmed, today, schedules),
        networks=networks,
    )


async def _waiting(request: Request, user: User, status: str) -> Waiting:
    try:
        found = await request.app.state.services.call(
            "GET", "intake", "/cases", user.token, params={"status": status, "limit": 200}
        )
    except (ServiceUnavailable, ServiceRefused):
        return Waiting(status, None)
    return Waiting(status, list(found.get("items", [])))


# --- the case ---------------------------------------------------------------------------------


@dataclass
class CaseFile:
    """A case as its page shows it: the desk's view (or intake's, before the desk has it) and
    intake's own view of it, when intake answers."""

    view: CaseView
    intake: dict[str, Any] | None
    intake_down: bool

    @property
    def intake_status(self) -> str | None:
        return str(self.intake["status"]) if self.intake else None

    @property
    def requirements(self) -> list[str]:
        checklist = (self.intake or {}).get("checklist") or {}
        return sorted(checklist, key=lambda r: (len(r), r))

    @property
    def proposal(self) -> list[tuple[str, float]]:
        decision = (self.intake or {}).get("decision") or {}
        return [
            (s["service_type"], float(s["weekly_quantity"])) for s in decision.get("services", [])
        ]

    @property
    def open_network_task(self) -> bool:
        task = self.view.network_task
        if task is not None:
            return task.completed_at is None
        tasks = (self.intake or {}).get("network_tasks") or []
        return any(t.get("outcome") is None for t in tasks)


async def _case_file(request: Request, user: User, case_id: str) -> CaseFile:
    """The case, if it is of the user's districts: else ``NotFound`` (the 404 page), as for a
    case nobody knows."""
    async with _engine(request).connect() as conn:
        view = await queries.case_view(conn, case_id)
    mine = user.principal.ambiti
    if view is not None and view.ambito_id is not None and view.ambito_id not in mine:
        raise NotFound("case.unknown", "Caso non trovato.")
    intake, down = await _intake_case(request, user, case_id)
    if view is None or view.ambito_id is None:
        # Not placed in a district by the desk yet: intake (which scopes by district) says.
        if intake is None or intake.get("ambito_id") not in mine:
            raise NotFound("case.unknown", "Caso non trovato.")
        view = _from_intake(intake, view)
    return CaseFile(view, intake, down)


async def _intake_case(
    request: Request, user: User, case_id: str
) -> tuple[dict[str, Any] | None, bool]:
    try:
        found = await request.app.state.services.call(
            "GET", "intake", _service_path(case_id), user.token
        )
    except ServiceUnavailable:
        return None, True
    except ServiceRefused:  # unknown to intake, or another district's
        return None, False
    return (found if isinstance(found, dict) else None), False


_STAGE_OF_INTAKE: Final = {
    "eligible": Stage.CONFIRMED,
    "not_eligible": Stage.REJECTED,
    "cancelled": Stage.CANCELLED,
    "closed": Stage.CLOSED,
}


def _from_intake(intake: dict[str, Any], known: CaseView | None) -> CaseView:
    """The desk's view of a case it has not folded yet, from what intake answers."""
    patient = intake.get("patient") or {}
    caregiver = intake.get("caregiver")
    decision = intake.get("decision") or {}
    base = known or CaseView(case_id=str(intake["case_id"]))
    told = {
        "ambito_id": intake.get("ambito_id"),
        "hospital_id": intake.get("hospital_id"),
        "discharge_ref": intake.get("discharge_ref"),
        "ward": intake.get("ward"),
        "stage": _STAGE_OF_INTAKE.get(str(intake.get("status")), Stage.ANNOUNCED),
        "announced_at": intake.get("announced_at"),
        "expected_discharge_at": intake.get("expected_discharge_at"),
        "person": patient or None,
        "caregiver": caregiver,
        "intensity": decision.get("intensity"),
        "plan": decision.get("services", []) if intake.get("status") == "eligible" else [],
    }
    return CaseView.model_validate({**base.model_dump(mode="json"), **told})


@router.get("/casi/{case_id:path}")
async def case_page(request: Request, user: CurrentUser, case_id: str) -> Response:
    await permit(request, user, Action.CASE_READ)
    file = await _case_file(request, user, case_id)
    return await _case_page(request, user, file, {})


async def _case_page(
    request: Request,
    user: User,
    file: CaseFile,
    states: dict[str, FormState],
    status_code: int = 200,
) -> Response:
    view = file.view
    today = _today(request)
    lang = language(request)
    async with _engine(request).connect() as conn:
        events = await queries.timeline(conn, view.case_id)
    discharge_on = discharge_day(view)
    discharged = discharge_on is not None and discharge_on <= today
    active = view.stage is Stage.CONFIRMED and view.closure is None
    intake_status = file.intake_status
    can = {
        "assess": intake_status is not None and intake_status not in ENDED_IN_INTAKE,
        "consent": intake_status in ("awaiting_consent", "awaiting_confirmation"),
        "confirm": intake_status == "awaiting_confirmation"
        and ((file.intake or {}).get("decision") or {}).get("outcome") == "eligible",
        "plan": intake_status == "eligible" and active,
        "network": file.open_network_task and view.closure is None,
        "check": active and discharged,
        "close": active,
        "hand_over": active and discharged,
    }
    escalated = {k for k, s in view.services.items() if s.status is ServiceStatus.ESCALATED}
    for form in states:  # a form sent and refused is shown again, whatever the case says now
        if form in _FORMS:
            can[_FORMS[form]] = True
        elif form.startswith("segnalazione-"):
            escalated.add(form.removeprefix("segnalazione-"))
    return _page(
        request,
        "caso.html",
        user,
        status_code=status_code,
        name=_person(view, view.case_id),
        case=view,
        file=file,
        intake=file.intake,
        today=today,
        readiness=case_readiness(view, today),
        services=plan_services(view),
        weeks=weekly_checks(view, today, schedule_of(view.ambito_id)),
        events=[(e, describe(e.event_type, e.data, lang)) for e in events],
        state=lambda name: states.get(name) or FormState(),
        can=can,
        providers={t: providers_for(view.ambito_id, t) for t in sorted(escalated)},
        now_local=_now(request).astimezone(ROME).strftime("%Y-%m-%dT%H:%M"),
        plan_now={line.service_type.value: line.weekly_quantity for line in view.plan},
        running=[k for k, s in view.services.items() if s.status is ServiceStatus.ACTIVE],
    )


# --- the forms: each checked here, sent to its service, the page again ----------------------

_FORMS: Final = {
    "valutazione": "assess",
    "consenso": "consent",
    "conferma": "confirm",
    "piano": "plan",
    "rete": "network",
    "verifica": "check",
    "chiusura": "close",
    "passaggio": "hand_over",
}
"""Each form of the case page (its id) and the action that shows it."""

Check = Callable[[Submitted, CaseFile, Request], Checked]


@dataclass(frozen=True)
class Act:
    """One of the team's actions on a case: its form, who may, what checks it, where it goes."""

    form: str
    action: Action
    check: Check
    method: str
    service: str
    path: Callable[[str], str]
    notice: str


async def _act(request: Request, user: User, case_id: str, act: Act) -> Response:
    await permit(request, user, act.action)
    file = await _case_file(request, user, case_id)
    typed = forms.submitted((await request.form()).multi_items())
    checked = act.check(typed, file, request)
    if checked.body is None:
        state = FormState(typed, checked.errors)
        return await _case_page(request, user, file, {act.form: state}, status_code=422)
    lang = language(request)
    try:
        await request.app.state.services.call(
            act.method, act.service, act.path(case_id), user.token, json=checked.body
        )
    except ServiceRefused as refused:
        if refused.code.startswith("access."):
            raise NotFound("case.unknown", "Caso non trovato.") from None
        # A 404 here is the service not knowing the case yet (the desk has it): said so.
        state = FormState(typed, refusal=_refusal_text(refused, lang))
        return await _case_page(request, user, file, {act.form: state}, status_code=409)
    except ServiceUnavailable:
        state = FormState(typed, refusal=i18n.text("error.unavailable", lang))
        return await _case_page(request, user, file, {act.form: state}, status_code=503)
    request.session["notice"] = act.notice
    return RedirectResponse(case_url(case_id), status_code=303)


def _refusal_text(refused: ServiceRefused, lang: str) -> str:
    """The service's refusal in the reader's words where the desk knows the code (some
    services answer in English), else as the service said it."""
    key = f"refusal.{refused.code}"
    return i18n.text(key, lang) if key in i18n.MESSAGES else refused.message


def _on(path: str) -> Callable[[str], str]:
    return lambda case_id: _service_path(case_id, path)


ASSESS = Act(
    "valutazione",
    Action.CASE_ASSESS,
    lambda typed, file, _: forms.check_assessment(typed, file.requirements),
    "PUT",
    "intake",
    _on("/assessment"),
    "notice.assessed",
)
CONSENT = Act(
    "consenso",
    Action.CASE_CONSENT,
    lambda typed, _, __: forms.check(forms.ConsentForm, typed),
    "PUT",
    "intake",
    _on("/consent"),
    "notice.consent",
)
CONFIRM = Act(
    "conferma",
    Action.CASE_CONFIRM,
    lambda typed, file, _: forms.check_confirm(typed, file.proposal),
    "POST",
    "intake",
    _on("/confirm"),
    "notice.confirmed",
)
PLAN = Act(
    "piano",
    Action.PLAN_REVISE,
    lambda typed, _, __: forms.check_plan(typed),
    "PUT",
    "intake",
    _on("/plan"),
    "notice.plan",
)
NETWORK = Act(
    "rete",
    Action.NETWORK_TASK_RECORD,
    lambda typed, _, __: forms.check(forms.NetworkTaskForm, typed),
    "POST",
    "intake",
    _on("/network-task"),
    "notice.network",
)
CHECK = Act(
    "verifica",
    Action.CHECK_RECORD,
    lambda typed, _, request: forms.check(forms.CheckForm, typed, now=_now(request)),
    "POST",
    "monitoring",
    _on("/checks"),
    "notice.check",
)
CLOSE = Act(
    "chiusura",
    Action.CASE_CLOSE,
    lambda typed, _, __: forms.check(forms.CloseForm, typed),
    "POST",
    "monitoring",
    _on("/close"),
    "notice.closed",
)
HAND_OVER = Act(
    "passaggio",
    Action.CASE_HAND_OVER,
    lambda typed, file, _: forms.check_hand_over(typed, list(file.view.services)),
    "POST",
    "monitoring",
    _on("/hand-over"),
    "notice.handed_over",
)


def _route(suffix: str, act: Act) -> None:
    async def post(request: Request, user: CurrentUser, case_id: str) -> Response:
        return await _act(request, user, case_id, act)

    post.__name__ = f"post_{act.form}"
    router.add_api_route(f"/casi/{{case_id:path}}/{suffix}", post, methods=["POST"])


for _suffix, _act_of in (
    ("valutazione", ASSESS),
    ("consenso", CONSENT),
    ("conferma", CONFIRM),
    ("piano", PLAN),
    ("rete", NETWORK),
    ("verifica", CHECK),
    ("chiusura", CLOSE),
    ("passaggio", HAND_OVER),
):
    _route(_suffix, _act_of)


@router.post("/casi/{case_id:path}/segnalazioni/{service_type}/risolvi")
async def resolve_escalation(
    request: Request, user: CurrentUser, case_id: str, service_type: str
) -> Response:
    if service_type not in forms.SERVICE_TYPES:
        raise NotFound("service.unknown", "Servizio sconosciuto.")

    def check(typed: Submitted, file: CaseFile, _: Request) -> Checked:
        offered = [p for p, _ in providers_for(file.view.ambito_id, service_type)]
        return forms.check(forms.ResolveForm, typed, providers=offered)

    act = Act(
        f"segnalazione-{service_type}",
        Action.ESCALATION_RESOLVE,
        check,
        "POST",
        "activation",
        _on(f"/escalations/{service_type}/resolve"),
        "notice.resolved",
    )
    return await _act(request, user, case_id, act)


# --- the board of coming discharges --------------------------------------------------------


@dataclass(frozen=True)
class BoardRow:
    view: CaseView
    readiness: CaseReadiness

    @property
    def name(self) -> str:
        return _person(self.view, self.view.case_id)


def _window(today: date) -> tuple[datetime, datetime]:
    first = today - timedelta(days=BOARD_PAST_DAYS)
    last = today + timedelta(days=BOARD_NEXT_DAYS)
    return _day_start(first), _day_start(last + timedelta(days=1))


async def _board(request: Request, user: User) -> list[BoardRow]:
    today = _today(request)
    first, until = _window(today)
    async with _engine(request).connect() as conn:
        found = await queries.cases(
            conn, user.principal.ambiti, OPEN_STAGES, first, until, limit=500
        )
    return [BoardRow(v, case_readiness(v, today)) for v in found if v.closure is None]


def _on_board(view: CaseView, today: date) -> bool:
    first, until = _window(today)
    at = view.expected_discharge_at
    return (
        view.stage in OPEN_STAGES
        and view.closure is None
        and at is not None
        and first <= at < until
    )


def _board_context(request: Request) -> dict[str, Any]:
    today = _today(request)
    return {
        "today": today,
        "first": today - timedelta(days=BOARD_PAST_DAYS),
        "last": today + timedelta(days=BOARD_NEXT_DAYS),
        "service_types": forms.SERVICE_TYPES,
    }


@router.get("/arrivi")
async def board_page(request: Request, user: CurrentUser) -> Response:
    await permit(request, user, Action.READINESS_READ)
    rows = await _board(request, user)
    return _page(
        request, "arrivi.html", user, active="arrivi", rows=rows, **_board_context(request)
    )


@router.get("/arrivi/tabella")
async def board_table(request: Request, user: CurrentUser) -> Response:
    """The board's table alone, for the page to swap in."""
    await permit(request, user, Action.READINESS_READ)
    rows = await _board(request, user)
    return _page(request, "_board.html", user, rows=rows, **_board_context(request))


@router.get("/arrivi/riga/{case_id:path}")
async def board_row(request: Request, user: CurrentUser, case_id: str) -> Response:
    """One case's row, for the page to swap in; 204 when the case has left the board."""
    await permit(request, user, Action.READINESS_READ)
    async with _engine(request).connect() as conn:
        view = await queries.case_view(conn, case_id)
    if view is None or view.ambito_id not in user.principal.ambiti:
        raise NotFound("case.unknown", "Caso non trovato.")
    today = _today(request)
    if not _on_board(view, today):
        return Response(status_code=204)
    row = BoardRow(view, case_readiness(view, today))
    return _page(request, "_board_row.html", user, row=row, **_board_context(request))


@router.get("/arrivi/eventi")
async def board_events(request: Request, user: CurrentUser) -> Response:
    """Server-sent events: ``caso`` with the case id each time a case of the user's districts
    changes; a comment every 15 s keeps the connection (and its proxies) alive."""
    await permit(request, user, Action.READINESS_READ)
    ambiti = user.principal.ambiti
    return StreamingResponse(
        _stream(request, ambiti),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _stream(request: Request, ambiti: frozenset[str]) -> AsyncIterator[str]:
    """Ends when the browser goes (Starlette cancels it), when the desk stops, or after
    ``STREAM_MAX_S`` (the browser reconnects and reloads the table)."""
    async with request.app.state.changes.listen() as queue:
        yield "retry: 3000\n: connesso\n\n"
        started = last = time.monotonic()
        while not _stopping(request) and time.monotonic() - started < STREAM_MAX_S:
            change = await _next(queue, timeout=1.0)
            if change is not None and change.ambito_id in ambiti:
                data = json.dumps({"case_id": change.case_id})
                yield f"event: caso\ndata: {data}\n\n"
                last = time.monotonic()
            elif time.monotonic() - last >= HEARTBEAT_S:
                yield ": battito\n\n"
                last = time.monotonic()


async def _next(queue: asyncio.Queue[Change], timeout: float) -> Change | None:
    try:
        return await asyncio.wait_for(queue.get(), timeout)
    except TimeoutError:
        return None


def _stopping(request: Request) -> bool:
    """The desk is shutting down: its HTTP server waits for open responses, so a stream must
    end for it to stop."""
    return bool(request.app.state.runtime.stopping)


# --- the timeline in words -----------------------------------------------------------------


def describe(event_type: str, data: dict[str, Any], lang: str) -> str:
    """One sentence (in ``lang``) of what the event says."""
    key = f"event.{event_type}"
    if key not in i18n.MESSAGES:
        return event_type

    def code(prefix: str, value: Any) -> str:
        return i18n.text(f"{prefix}.{value}", lang) if value is not None else "—"

    def day(value: Any) -> str:
        return i18n.day(_parse_day(value), lang) if value else "—"

    def moment(value: Any) -> str:
        return i18n.moment(datetime.fromisoformat(str(value)), lang) if value else "—"

    services = data.get("services") or []
    values: dict[str, Any] = {
        "ward": data.get("ward", "—"),
        "day": day(
            data.get("expected_discharge_at")
            or data.get("start_by")
            or data.get("active_from")
            or data.get("until")
            or data.get("postpone_until")
            or data.get("delivered_on")
            or data.get("readmitted_at")
        ),
        "moment": moment(data.get("scheduled_start")),
        "service": code("service", data.get("service_type")),
        "services": ", ".join(
            f"{code('service', s.get('service_type'))} "
            f"{i18n.number(s.get('weekly_quantity'), lang)}"
            for s in services
        )
        or "—",
        "provider": provider_name(data.get("provider_id")),
        "intensity": code("intensity", data.get("intensity")),
        "version": data.get("plan_version", "—"),
        "by": _who(
            data.get("decided_by") or data.get("revised_by") or data.get("resolved_by"), lang
        ),
        "reason": (data.get("reason") or {}).get("text", "—")
        if isinstance(data.get("reason"), dict)
        else code("escalation", data.get("reason")),
        "decline": code("decline", data.get("reason_code")),
        "resolution": code("resolution", data.get("resolution")),
        "network": code("network", data.get("outcome")),
        "check": code("check", data.get("outcome")),
        "outcome": code("outcome", data.get("outcome")),
        "week": data.get("week", "—"),
        "quantity": i18n.number(data.get("quantity"), lang),
        "municipality": data.get("municipality_code", "—"),
    }
    return i18n.text(key, lang, **values)


def _who(actor: Any, lang: str) -> str:
    return i18n.text("who.rule", lang) if actor == "rule" else str(actor or "—")


def _parse_day(value: Any) -> date | datetime:
    text = str(value)
    return datetime.fromisoformat(text) if "T" in text else date.fromisoformat(text)


# --- the words ------------------------------------------------------------------------------

_NOTICES: Final = frozenset(
    {
        "notice.assessed",
        "notice.consent",
        "notice.confirmed",
        "notice.plan",
        "notice.network",
        "notice.check",
        "notice.closed",
        "notice.handed_over",
        "notice.resolved",
    }
)
