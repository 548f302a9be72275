"""The provider portal: for a cooperative without a system of its own, the desk is its adapter.

Its operators (role ``provider``, claim ``provider_id``) see the requests addressed to their
provider and nothing else (another provider's request answers 404, and the refusal is in the
audit log), answer them, report what they delivered, and read their monthly statements.
Answers and deliveries are the events the provider's adapter would publish: built by
``cerniera.desk.portal``, written to the desk's outbox in one transaction with the provider's
source (``urn:dp:provider:<id>``), and published by the relay on the provider's own topic
``providers.reports.<id>``; they name the request's event as their cause, as an adapter does.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Mapping
from contextlib import nullcontext
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Final

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.responses import RedirectResponse, Response

from cerniera.desk import portal, queries
from cerniera.desk.auth import CurrentUser, User
from cerniera.desk.casefile import RequestStatus, RequestView
from cerniera.desk.services import ServiceRefused, ServiceUnavailable
from cerniera.desk.tables import timeline
from cerniera.desk.web import i18n
from cerniera.desk.web.pages import language, permit, render
from cerniera.shared.access import Action
from cerniera.shared.access.web import denied
from cerniera.shared.causation import handling
from cerniera.shared.clock import italian_date
from cerniera.shared.contract import (
    PROVIDER_ID_PATTERN,
    DeclineReason,
    EventData,
    HoursDelivered,
    ProviderStatementIssued,
    ServiceActivationRequested,
    ServiceType,
)
from cerniera.shared.contract.provenance import provider_source
from cerniera.shared.envelope import Envelope
from cerniera.shared.refusals import Forbidden, NotFound

router = APIRouter(include_in_schema=False)

RUNNING: Final = (RequestStatus.ACCEPTED, RequestStatus.ACTIVE, RequestStatus.ENDED)
ENDED_SHOWN: Final = timedelta(days=31)
"""An ended service stays on the portal a month, for the deliveries still to report."""
RECENT: Final = 20
PERIOD: Final = re.compile(r"^(?:19|2[0-9])[0-9]{2}-(?:0[1-9]|1[0-2])$")
PROVIDER: Final = re.compile(PROVIDER_ID_PATTERN)
AMBITO: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
DONE: Final = frozenset({"accettata", "rifiutata", "consegna"})
"""What the page after a POST says was done (``?fatto=``)."""


# --- pages -----------------------------------------------------------------------------------


@router.get("/portale")
async def home(request: Request, user: CurrentUser, fatto: str | None = None) -> Response:
    provider_id = await _provider(request, user, Action.REQUESTS_READ)
    today = _today(request)
    async with request.app.state.runtime.engine.connect() as conn:
        views = await queries.requests_of(conn, provider_id, (RequestStatus.PENDING, *RUNNING))
        pending = [v for v in views if v.status is RequestStatus.PENDING]
        running = [v for v in views if v.status in RUNNING and _still_shown(v, today)]
        deliveries = await recent_deliveries(conn, provider_id, {v.case_id for v in views})
    names = {(v.case_id, v.service_type): v.beneficiary_name for v in views}
    return render(
        request,
        "portale.html",
        user,
        active="portale",
        done=fatto if fatto in DONE else None,
        pending=sorted(pending, key=lambda v: (v.start_by, v.requested_at)),
        running=sorted(running, key=lambda v: (v.status != RequestStatus.ACCEPTED, v.start_by)),
        deliveries=[(d, names.get((d.case_id, d.service_type))) for d in deliveries],
        quantity=_quantity_words(language(request)),
    )


@router.get("/portale/richieste/{request_id:path}")
async def request_page(request: Request, request_id: str, user: CurrentUser) -> Response:
    provider_id = await _provider(request, user, Action.REQUESTS_READ)
    view = await _own(request, provider_id, request_id)
    return _answer_page(request, user, view)


@router.post("/portale/richieste/{request_id:path}/accetta")
async def accept(request: Request, request_id: str, user: CurrentUser) -> Response:
    provider_id = await _provider(request, user, Action.PROVIDER_ANSWER)
    view = await _own(request, provider_id, request_id)
    form = await _form(request)
    try:
        answer = portal.acceptance(view, form, request.app.state.runtime.clock.now())
    except portal.FormInvalid as invalid:
        return _answer_page(request, user, view, form, invalid.problems, "accept", 422)
    await _publish(request, view, answer)
    return RedirectResponse("/portale?fatto=accettata", status_code=303)


@router.post("/portale/richieste/{request_id:path}/rifiuta")
async def decline(request: Request, request_id: str, user: CurrentUser) -> Response:
    provider_id = await _provider(request, user, Action.PROVIDER_ANSWER)
    view = await _own(request, provider_id, request_id)
    form = await _form(request)
    try:
        answer = portal.decline(view, form)
    except portal.FormInvalid as invalid:
        return _answer_page(request, user, view, form, invalid.problems, "decline", 422)
    await _publish(request, view, answer)
    return RedirectResponse("/portale?fatto=rifiutata", status_code=303)


@router.get("/portale/servizi/{request_id:path}")
async def service_page(
    request: Request, request_id: str, user: CurrentUser, fatto: str | None = None
) -> Response:
    provider_id = await _provider(request, user, Action.REQUESTS_READ)
    view = await _own(request, provider_id, request_id)
    return await _delivery_page(request, user, view, done=fatto if fatto in DONE else None)


@router.post("/portale/servizi/{request_id:path}/consegne")
async def report_delivery(request: Request, request_id: str, user: CurrentUser) -> Response:
    provider_id = await _provider(request, user, Action.DELIVERY_REPORT)
    view = await _own(request, provider_id, request_id)
    form = await _form(request)
    try:
        line = portal.delivery(view, form, _today(request))
    except portal.FormInvalid as invalid:
        return await _delivery_page(request, user, view, form, invalid.problems, status=422)
    await _publish(request, view, line)
    return RedirectResponse(f"/portale/servizi/{view.request_id}?fatto=consegna", 303)


@router.get("/portale/estratti")
async def statements(request: Request, user: CurrentUser, mese: str | None = None) -> Response:
    provider_id = await _provider(request, user, Action.STATEMENT_READ)
    if mese is not None and PERIOD.fullmatch(mese.strip()):
        return RedirectResponse(f"/portale/estratti/{mese.strip()}", status_code=303)
    async with request.app.state.runtime.engine.connect() as conn:
        entries = await queries.ledger(
            conn, provider_id=provider_id, event_type=ProviderStatementIssued.event_type
        )
    return render(
        request,
        "portale_estratti.html",
        user,
        active="portale",
        issued=issued_statements(entries),
        month_invalid=mese is not None,
        month_of=_month,
    )


@router.get("/portale/estratti/{period}.csv")
async def statement_csv(
    request: Request,
    period: str,
    user: CurrentUser,
    ambito_id: Annotated[str | None, Query()] = None,
) -> Response:
    """Billing's CSV of the statement, fetched with the user's own token: billing decides."""
    provider_id = await _provider(request, user, Action.STATEMENT_READ)
    path = _statement_path(provider_id, period, ambito_id) + ".csv"
    try:
        body = await request.app.state.services.call(
            "GET", "billing", path, user.token, params=_ambito(ambito_id)
        )
    except ServiceRefused as refused:
        raise _refusal_page(refused) from refused
    suffix = f"-{ambito_id}" if ambito_id else ""
    return Response(
        content=str(body),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="estratto-{provider_id}-'
            f'{period}{suffix}.csv"'
        },
    )


@router.get("/portale/estratti/{period}")
async def statement(
    request: Request,
    period: str,
    user: CurrentUser,
    ambito_id: Annotated[str | None, Query()] = None,
) -> Response:
    provider_id = await _provider(request, user, Action.STATEMENT_READ)
    path = _statement_path(provider_id, period, ambito_id)
    try:
        found = await request.app.state.services.call(
            "GET", "billing", path, user.token, params=_ambito(ambito_id)
        )
    except ServiceRefused as refused:
        raise _refusal_page(refused) from refused
    query = f"?ambito_id={ambito_id}" if ambito_id else ""
    return render(
        request,
        "portale_estratto.html",
        user,
        active="portale",
        title=i18n.text(
            "portale.statement.title",
            language(request),
            month=i18n.day(_month(period), language(request), "MMMM y"),
        ),
        ambito_id=ambito_id,
        found=_statement(found),
        csv_url=f"/portale/estratti/{period}.csv{query}",
        quantity=_quantity_words(language(request)),
    )


# --- who may, and which request -------------------------------------------------------------


async def _provider(request: Request, user: User, action: Action) -> str:
    """The user's provider, once the role allows ``action``: the portal is for a provider's
    operators only (an auditor reads the services' APIs, not this portal)."""
    await permit(request, user, action)
    provider_id = user.principal.provider_id
    # The id names the provider's topic: one that could not is no provider of the registry.
    if not user.is_provider or provider_id is None or not PROVIDER.fullmatch(provider_id):
        await denied(request)
        raise Forbidden("access.provider", i18n.text("error.forbidden", language(request)))
    return provider_id


async def _own(request: Request, provider_id: str, request_id: str) -> RequestView:
    """The request, if it is this provider's; any other answers 404 (logged as denied), so a
    provider learns nothing of another's requests, not even that they exist."""
    async with request.app.state.runtime.engine.connect() as conn:
        view = await queries.request(conn, request_id)
    if view is not None and view.provider_id == provider_id:
        return view
    if view is not None:
        await denied(request)
    raise NotFound("request.unknown", i18n.text("error.not_found", language(request)))


def _today(request: Request) -> date:
    return italian_date(request.app.state.runtime.clock.now())


def _still_shown(view: RequestView, today: date) -> bool:
    if view.status is not RequestStatus.ENDED:
        return True
    return view.until is None or view.until >= today - ENDED_SHOWN


async def _form(request: Request) -> dict[str, str]:
    submitted = await request.form()
    return {name: value for name, value in submitted.items() if isinstance(value, str)}


# --- publishing ------------------------------------------------------------------------------


async def _publish(request: Request, view: RequestView, data: EventData) -> None:
    """Through the outbox, as the provider (its source; its topic by the event's
    ``provider_id``), keyed by the case, caused by the request's event when the desk has it."""
    db = request.app.state.runtime.db
    async with db.unit_of_work(source=provider_source(view.provider_id)) as uow:
        cause = await request_event(uow.conn, view)
        with handling(cause) if cause is not None else nullcontext():
            uow.emit(data, subject=view.case_id)


# --- the read model: what ``queries`` does not read ---------------------------------------


async def request_event(conn: AsyncConnection, view: RequestView) -> Envelope | None:
    """The latest ``ServiceActivationRequested`` of ``view`` the desk received (the case's
    timeline), as the cause of the provider's answer: its correlation and causation ids."""
    query = (
        select(timeline)
        .where(
            timeline.c.case_id == view.case_id,
            timeline.c.event_type == ServiceActivationRequested.event_type,
            timeline.c.data["request_id"].astext == view.request_id,
        )
        .order_by(timeline.c.seq.desc())
        .limit(1)
    )
    row = (await conn.execute(query)).first()
    if row is None:
        return None
    try:
        data = ServiceActivationRequested.model_validate(row.data)
    except ValidationError:
        return None
    return Envelope(
        data=data,
        source=row.source,
        subject=row.case_id,
        id=row.event_id,
        time=row.occurred_at,
        correlation_id=row.correlation_id,
        causation_id=row.causation_id,
    )


async def recent_deliveries(
    conn: AsyncConnection, provider_id: str, case_ids: Iterable[str], *, limit: int = RECENT
) -> list[HoursDelivered]:
    """The provider's latest reported lines on its cases (by the index on the case), each
    ``delivery_ref`` once: a line sent twice was one delivery."""
    cases = sorted(set(case_ids))
    if not cases:
        return []
    query = (
        select(timeline.c.data)
        .where(
            timeline.c.case_id.in_(cases),
            timeline.c.provider_id == provider_id,
            timeline.c.event_type == HoursDelivered.event_type,
        )
        .order_by(timeline.c.seq.desc())
        .limit(limit * 2)
    )
    seen: dict[str, HoursDelivered] = {}
    for data in (await conn.execute(query)).scalars():
        try:
            line = HoursDelivered.model_validate(data)
        except ValidationError:
            continue
        if line.provider_id == provider_id:
            seen.setdefault(line.delivery_ref, line)
    return sorted(seen.values(), key=lambda d: d.delivered_on, reverse=True)[:limit]


def issued_statements(entries: Iterable[queries.LedgerEntry]) -> list[ProviderStatementIssued]:
    """The statements billing issued, latest month first (each district's of a month)."""
    found = []
    for entry in entries:
        try:
            found.append(ProviderStatementIssued.model_validate(entry.data))
        except ValidationError:
            continue
    return sorted(found, key=lambda s: (s.period, s.issued_at), reverse=True)


# --- billing's statement, as the page reads it ----------------------------------------------


class _Read(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class StatementLine(_Read):
    """What the page shows of one of billing's statement lines."""

    delivered_on: date
    service_type: ServiceType
    quantity: Decimal
    evening: bool
    unit_tariff: Decimal | None
    surcharge_percent: Decimal
    amount: Decimal
    status: str
    reason: dict[str, str] | None = None
    delivery_ref: str


class ServiceTotal(_Read):
    service_type: ServiceType
    billed_quantity: Decimal
    billed_amount: Decimal
    refused_quantity: Decimal
    refused_amount: Decimal
    lines: int


class IssuedStatement(_Read):
    ambito_id: str
    total: Decimal
    lines: int
    issued_at: datetime


class Statement(_Read):
    """Billing's ``GET /statements/{provider_id}/{period}``, as the page reads it."""

    lines: list[StatementLine]
    totals: list[ServiceTotal]
    total: Decimal
    refused_amount: Decimal
    issued: list[IssuedStatement]


# --- rendering -------------------------------------------------------------------------------


def _answer_page(
    request: Request,
    user: User,
    view: RequestView,
    form: Mapping[str, str] | None = None,
    problems: Mapping[str, portal.Problem] | None = None,
    which: str | None = None,
    status: int = 200,
) -> Response:
    lang = language(request)
    today = _today(request)
    return render(
        request,
        "portale_richiesta.html",
        user,
        status_code=status,
        active="portale",
        view=view,
        answerable=view.status in portal.ANSWERABLE,
        form=form or {},
        which=which,
        errors=messages(problems or {}, lang),
        today=today,
        start_day=max(view.start_by, today).isoformat(),
        reasons=[(r.value, i18n.text(f"portale.reason.{r.value}", lang)) for r in DeclineReason],
        quantity=_quantity_words(lang),
    )


async def _delivery_page(
    request: Request,
    user: User,
    view: RequestView,
    form: Mapping[str, str] | None = None,
    problems: Mapping[str, portal.Problem] | None = None,
    *,
    status: int = 200,
    done: str | None = None,
) -> Response:
    lang = language(request)
    async with request.app.state.runtime.engine.connect() as conn:
        lines = await recent_deliveries(conn, view.provider_id, [view.case_id])
    given = dict(form or {})
    # A form that failed keeps its own nonce: sent again once corrected, it is the same line.
    nonce = given.get(portal.NONCE) or secrets.token_urlsafe(18)
    return render(
        request,
        "portale_servizio.html",
        user,
        status_code=status,
        active="portale",
        view=view,
        done=done,
        delivering=view.status in portal.DELIVERING,
        first_day=portal.first_day(view),
        unit=portal.unit_of(view.service_type).value,
        by_day=portal.counted_in_days(view.service_type),
        form=given,
        nonce=nonce,
        errors=messages(problems or {}, lang),
        today=_today(request),
        lines=[d for d in lines if d.service_type == view.service_type],
        quantity=_quantity_words(lang),
    )


def messages(problems: Mapping[str, portal.Problem], lang: str) -> dict[str, str]:
    """Each field's problem in the reader's words, dates and numbers in their format."""
    return {name: _words(problem, lang) for name, problem in problems.items()}


def _words(problem: portal.Problem, lang: str) -> str:
    values: dict[str, object] = {}
    for name, value in problem.values.items():
        if isinstance(value, date):
            values[name] = i18n.day(value, lang)
        elif isinstance(value, Decimal | int):
            values[name] = i18n.number(value, lang)
        else:
            values[name] = value
    return i18n.text(problem.key, lang, **values)


def _quantity_words(lang: str) -> Any:
    """``quantity(value, service_type)``: "6 ore", "1 pasto", "7 giorni"."""

    def quantity(value: Decimal | float, service_type: str) -> str:
        unit = portal.unit_of(ServiceType(service_type)).value
        form = "one" if Decimal(str(value)) == 1 else "other"
        return i18n.text(f"portale.unit.{unit}.{form}", lang, n=i18n.number(value, lang))

    return quantity


def _month(period: str) -> date:
    year, month = period.split("-")
    return date(int(year), int(month), 1)


def _statement(body: Any) -> Statement:
    try:
        return Statement.model_validate(body)
    except ValidationError as error:  # billing answered something else: not now
        raise ServiceUnavailable("billing: statement unreadable") from error


def _statement_path(provider_id: str, period: str, ambito_id: str | None) -> str:
    if not PERIOD.fullmatch(period) or (ambito_id is not None and not AMBITO.fullmatch(ambito_id)):
        raise NotFound("statement.unknown", "Estratto non trovato.")
    return f"/statements/{provider_id}/{period}"


def _ambito(ambito_id: str | None) -> dict[str, str] | None:
    return {"ambito_id": ambito_id} if ambito_id else None


def _refusal_page(refused: ServiceRefused) -> Exception:
    """Billing's verdict as the desk's page: not found, else not allowed."""
    if refused.status in (404, 422):
        return NotFound(refused.code, refused.message)
    return Forbidden(refused.code, refused.message)


i18n.register(
    {
        "portale.title": {"it": "Portale dell'ente", "en": "Provider portal"},
        "portale.lead": {
            "it": "Le richieste di attivazione rivolte al vostro ente, i servizi in corso e le "
            "consegne da segnalare.",
            "en": "The activation requests sent to your organisation, the services running and "
            "the deliveries to report.",
        },
        "portale.nav.label": {"it": "Sezioni del portale", "en": "Portal sections"},
        "portale.nav.home": {"it": "Richieste e servizi", "en": "Requests and services"},
        "portale.nav.statements": {"it": "Estratti conto", "en": "Statements"},
        "portale.back": {"it": "Torna al portale", "en": "Back to the portal"},
        "portale.pending": {"it": "Richieste da evadere", "en": "Requests to answer"},
        "portale.pending.none": {
            "it": "Nessuna richiesta in attesa di risposta.",
            "en": "No request is waiting for an answer.",
        },
        "portale.running": {"it": "Servizi in corso", "en": "Services running"},
        "portale.running.none": {"it": "Nessun servizio in corso.", "en": "No service running."},
        "portale.deliveries": {
            "it": "Consegne segnalate di recente",
            "en": "Deliveries reported recently",
        },
        "portale.deliveries.none": {
            "it": "Nessuna consegna segnalata finora.",
            "en": "No delivery reported so far.",
        },
        "portale.col.service": {"it": "Servizio", "en": "Service"},
        "portale.col.weekly": {"it": "Per settimana", "en": "Per week"},
        "portale.col.person": {"it": "Persona", "en": "Person"},
        "portale.col.address": {"it": "Indirizzo", "en": "Address"},
        "portale.col.phone": {"it": "Telefono", "en": "Phone"},
        "portale.col.start_by": {"it": "Da avviare entro", "en": "Start by"},
        "portale.col.requested": {"it": "Ricevuta il", "en": "Received"},
        "portale.col.action": {"it": "Azione", "en": "Action"},
        "portale.col.start": {"it": "Inizio", "en": "Start"},
        "portale.col.end": {"it": "Fine", "en": "End"},
        "portale.col.delivered": {"it": "Consegnato finora", "en": "Delivered so far"},
        "portale.col.last": {"it": "Ultima consegna", "en": "Last delivery"},
        "portale.col.status": {"it": "Stato", "en": "Status"},
        "portale.col.day": {"it": "Giorno", "en": "Day"},
        "portale.col.quantity": {"it": "Quantità", "en": "Quantity"},
        "portale.col.evening": {"it": "Serale", "en": "Evening"},
        "portale.col.ref": {"it": "Riferimento", "en": "Reference"},
        "portale.answer": {"it": "Rispondi", "en": "Answer"},
        "portale.answer.for": {
            "it": "Rispondi alla richiesta per {name}",
            "en": "Answer the request for {name}",
        },
        "portale.report": {"it": "Segnala consegna", "en": "Report delivery"},
        "portale.report.for": {
            "it": "Segnala una consegna per {name}",
            "en": "Report a delivery for {name}",
        },
        "portale.status.pending": {"it": "In attesa di risposta", "en": "Waiting for an answer"},
        "portale.status.accepted": {"it": "Accettato", "en": "Accepted"},
        "portale.status.declined": {"it": "Rifiutato", "en": "Declined"},
        "portale.status.active": {"it": "Attivo", "en": "Active"},
        "portale.status.ended": {"it": "Concluso", "en": "Ended"},
        "portale.unit.hours.one": {"it": "{n} ora", "en": "{n} hour"},
        "portale.unit.hours.other": {"it": "{n} ore", "en": "{n} hours"},
        "portale.unit.meals.one": {"it": "{n} pasto", "en": "{n} meal"},
        "portale.unit.meals.other": {"it": "{n} pasti", "en": "{n} meals"},
        "portale.unit.days.one": {"it": "{n} giorno", "en": "{n} day"},
        "portale.unit.days.other": {"it": "{n} giorni", "en": "{n} days"},
        "portale.yes": {"it": "Sì", "en": "Yes"},
        "portale.no": {"it": "No", "en": "No"},
        "portale.done.accettata": {
            "it": "Risposta inviata: richiesta accettata. Il servizio compare tra quelli in "
            "corso appena il distretto la registra.",
            "en": "Answer sent: request accepted. The service appears among those running as "
            "soon as the district records it.",
        },
        "portale.done.rifiutata": {
            "it": "Risposta inviata: richiesta rifiutata. Il distretto cercherà un altro ente.",
            "en": "Answer sent: request declined. The district will look for another provider.",
        },
        "portale.done.consegna": {
            "it": "Consegna segnalata. Per un'altra consegna compilare di nuovo il modulo.",
            "en": "Delivery reported. For another delivery fill in the form again.",
        },
        "portale.request.title": {"it": "Richiesta di attivazione", "en": "Activation request"},
        "portale.request.for": {"it": "Richiesta per {name}", "en": "Request for {name}"},
        "portale.request.answered": {
            "it": "Questa richiesta ha già una risposta: {status}.",
            "en": "This request has been answered: {status}.",
        },
        "portale.request.service_link": {
            "it": "Vai al servizio per segnalare le consegne",
            "en": "Go to the service to report deliveries",
        },
        "portale.accept.title": {"it": "Accettare la richiesta", "en": "Accept the request"},
        "portale.accept.day": {"it": "Giorno di inizio", "en": "Start day"},
        "portale.accept.day.hint": {
            "it": "Il distretto chiede che il servizio sia attivo entro il {start_by}.",
            "en": "The district asks for the service to run by {start_by}.",
        },
        "portale.accept.time": {"it": "Ora di inizio", "en": "Start time"},
        "portale.accept.time.hint": {
            "it": "Ora italiana, per esempio 09:00.",
            "en": "Italian time, for example 09:00.",
        },
        "portale.accept.button": {"it": "Accetta e invia", "en": "Accept and send"},
        "portale.decline.title": {"it": "Rifiutare la richiesta", "en": "Decline the request"},
        "portale.decline.reason": {"it": "Motivo del rifiuto", "en": "Why you decline"},
        "portale.decline.note": {"it": "Nota", "en": "Note"},
        "portale.decline.note.hint": {
            "it": "Facoltativa; obbligatoria con «Altro motivo». Non scrivere dati sanitari.",
            "en": "Optional; required with “Other reason”. Do not write health data.",
        },
        "portale.decline.button": {"it": "Rifiuta e invia", "en": "Decline and send"},
        "portale.reason.capacity": {
            "it": "Nessun operatore disponibile (posti esauriti)",
            "en": "No staff available (no capacity)",
        },
        "portale.reason.out_of_area": {
            "it": "Indirizzo fuori dalla zona servita",
            "en": "Address outside the area served",
        },
        "portale.reason.missing_information": {
            "it": "Mancano informazioni per avviare il servizio",
            "en": "Information missing to start the service",
        },
        "portale.reason.not_eligible": {
            "it": "La persona non rientra nel servizio offerto",
            "en": "The person does not qualify for the service offered",
        },
        "portale.reason.other": {
            "it": "Altro motivo (spiegarlo nella nota)",
            "en": "Other reason (explain it in the note)",
        },
        "portale.service.title": {"it": "Servizio per {name}", "en": "Service for {name}"},
        "portale.delivery.title": {"it": "Segnalare una consegna", "en": "Report a delivery"},
        "portale.delivery.day": {"it": "Giorno della consegna", "en": "Day delivered"},
        "portale.delivery.day.hint": {
            "it": "Dal {first} a oggi, {today}.",
            "en": "From {first} to today, {today}.",
        },
        "portale.delivery.day.hint_today": {
            "it": "Fino a oggi, {today}.",
            "en": "Up to today, {today}.",
        },
        "portale.delivery.quantity.hours": {"it": "Ore prestate", "en": "Hours delivered"},
        "portale.delivery.quantity.meals": {"it": "Pasti consegnati", "en": "Meals delivered"},
        "portale.delivery.quantity.hint.hours": {
            "it": "Per esempio 1,5 per un'ora e mezza; al massimo 24.",
            "en": "For example 1.5 for an hour and a half; 24 at most.",
        },
        "portale.delivery.quantity.hint.meals": {
            "it": "I pasti del giorno, al massimo 3.",
            "en": "The day's meals, 3 at most.",
        },
        "portale.delivery.by_day": {
            "it": "Si segnala un giorno di servizio per ogni giorno.",
            "en": "One day of service is reported for each day.",
        },
        "portale.delivery.evening": {
            "it": "Prestazione serale (dopo le 20:00)",
            "en": "Evening visit (after 20:00)",
        },
        "portale.delivery.button": {"it": "Segnala la consegna", "en": "Report the delivery"},
        "portale.delivery.not_running": {
            "it": "Il servizio non è in corso: non si possono segnalare consegne.",
            "en": "The service is not running: no delivery can be reported.",
        },
        "portale.delivery.lines": {
            "it": "Consegne segnalate per questo servizio",
            "en": "Deliveries reported for this service",
        },
        "portale.errors.title": {
            "it": "Il modulo non è stato inviato: correggere questi campi.",
            "en": "The form was not sent: correct these fields.",
        },
        "portale.error.start_day.past": {
            "it": "Il giorno di inizio non può essere prima di oggi ({today}).",
            "en": "The start day cannot be before today ({today}).",
        },
        "portale.error.start_day.far": {
            "it": "Il giorno di inizio è a più di un anno da oggi: controllare l'anno.",
            "en": "The start day is more than a year from today: check the year.",
        },
        "portale.error.day.missing": {"it": "Indicare il giorno.", "en": "Give the day."},
        "portale.error.day.invalid": {
            "it": "Il giorno non è una data valida: scriverlo come 03/10/2024.",
            "en": "The day is not a valid date: write it as 03/10/2024 (day/month/year).",
        },
        "portale.error.time.missing": {
            "it": "Indicare l'ora di inizio.",
            "en": "Give the start time.",
        },
        "portale.error.time.invalid": {
            "it": "L'ora non è valida: scriverla come 09:00.",
            "en": "The time is not valid: write it as 09:00.",
        },
        "portale.error.reason.missing": {
            "it": "Scegliere il motivo del rifiuto.",
            "en": "Choose why you decline.",
        },
        "portale.error.note.needed": {
            "it": "Con «Altro motivo» scrivere nella nota perché la richiesta è rifiutata.",
            "en": "With “Other reason” write in the note why the request is declined.",
        },
        "portale.error.note.long": {
            "it": "La nota può avere al massimo {max} caratteri.",
            "en": "The note can have {max} characters at most.",
        },
        "portale.error.note.characters": {
            "it": "La nota contiene caratteri non ammessi: riscriverla senza simboli speciali.",
            "en": "The note contains characters that are not allowed: write it without special "
            "symbols.",
        },
        "portale.error.request.answered": {
            "it": "Questa richiesta ha già una risposta: non si può più accettare o rifiutare.",
            "en": "This request has already been answered: it can no longer be accepted or "
            "declined.",
        },
        "portale.error.request.not_running": {
            "it": "Il servizio non è in corso: non si possono segnalare consegne.",
            "en": "The service is not running: no delivery can be reported.",
        },
        "portale.error.day.future": {
            "it": "Non si può segnalare una consegna di un giorno che deve ancora venire (oggi "
            "è il {today}).",
            "en": "A delivery cannot be reported for a day still to come (today is {today}).",
        },
        "portale.error.day.before_start": {
            "it": "Il servizio è iniziato il {start}: indicare quel giorno o uno successivo.",
            "en": "The service started on {start}: give that day or a later one.",
        },
        "portale.error.day.after_end": {
            "it": "Il servizio è terminato il {end}: indicare quel giorno o uno precedente.",
            "en": "The service ended on {end}: give that day or an earlier one.",
        },
        "portale.error.quantity.missing.hours": {
            "it": "Indicare le ore prestate.",
            "en": "Give the hours delivered.",
        },
        "portale.error.quantity.missing.meals": {
            "it": "Indicare i pasti consegnati.",
            "en": "Give the meals delivered.",
        },
        "portale.error.quantity.invalid": {
            "it": "Scrivere un numero, per esempio 1,5.",
            "en": "Write a number, for example 1.5.",
        },
        "portale.error.quantity.zero": {
            "it": "Il numero deve essere maggiore di zero.",
            "en": "The number must be more than zero.",
        },
        "portale.error.quantity.decimals": {
            "it": "Al massimo due cifre dopo la virgola.",
            "en": "Two digits after the decimal point at most.",
        },
        "portale.error.quantity.whole": {
            "it": "I pasti si contano interi: scrivere un numero senza virgola.",
            "en": "Meals are counted whole: write a number without decimals.",
        },
        "portale.error.quantity.most.hours": {
            "it": "Al massimo {most} ore in un giorno.",
            "en": "{most} hours in a day at most.",
        },
        "portale.error.quantity.most.meals": {
            "it": "Al massimo {most} pasti in un giorno.",
            "en": "{most} meals in a day at most.",
        },
        "portale.error.quantity.most.days": {
            "it": "Un giorno di servizio per volta.",
            "en": "One day of service at a time.",
        },
        "portale.error.form.expired": {
            "it": "Il modulo è scaduto: ricaricare la pagina e compilarlo di nuovo.",
            "en": "The form has expired: reload the page and fill it in again.",
        },
        "portale.statements.title": {"it": "Estratti conto mensili", "en": "Monthly statements"},
        "portale.statements.lead": {
            "it": "Gli estratti emessi dall'ambito e, per ogni mese, le righe delle consegne con "
            "il loro importo.",
            "en": "The statements the district issued and, for each month, the delivery lines "
            "with their amounts.",
        },
        "portale.statements.issued": {"it": "Estratti emessi", "en": "Statements issued"},
        "portale.statements.none": {
            "it": "Nessun estratto emesso finora.",
            "en": "No statement issued so far.",
        },
        "portale.statements.month": {"it": "Mese", "en": "Month"},
        "portale.statements.ambito": {"it": "Ambito", "en": "District"},
        "portale.statements.lines": {"it": "Righe pagate", "en": "Lines paid"},
        "portale.statements.total": {"it": "Totale", "en": "Total"},
        "portale.statements.issued_at": {"it": "Emesso il", "en": "Issued"},
        "portale.statements.detail_for": {
            "it": "Dettaglio di {month}",
            "en": "Details of {month}",
        },
        "portale.statements.csv": {"it": "Scarica il CSV", "en": "Download the CSV"},
        "portale.statements.csv_for": {
            "it": "Scarica il CSV di {month}",
            "en": "Download the CSV of {month}",
        },
        "portale.statements.pick": {"it": "Vedere un mese", "en": "See a month"},
        "portale.statements.pick.field": {"it": "Mese", "en": "Month"},
        "portale.statements.pick.hint": {
            "it": "Anche il mese in corso: le righe registrate finora. Formato aaaa-mm.",
            "en": "The current month too: the lines recorded so far. Format yyyy-mm.",
        },
        "portale.statements.pick.invalid": {
            "it": "Il mese non è valido: scriverlo come 2024-10.",
            "en": "The month is not valid: write it as 2024-10.",
        },
        "portale.statements.pick.button": {"it": "Mostra", "en": "Show"},
        "portale.statement.title": {"it": "Estratto di {month}", "en": "Statement of {month}"},
        "portale.statement.ambito": {"it": "Ambito: {ambito}", "en": "District: {ambito}"},
        "portale.statement.totals": {"it": "Totali per servizio", "en": "Totals per service"},
        "portale.statement.lines": {"it": "Righe", "en": "Lines"},
        "portale.statement.none": {
            "it": "Nessuna consegna registrata in questo mese.",
            "en": "No delivery recorded in this month.",
        },
        "portale.statement.billed": {"it": "Pagato", "en": "Paid"},
        "portale.statement.refused": {"it": "Non pagato", "en": "Not paid"},
        "portale.statement.count": {"it": "Righe", "en": "Lines"},
        "portale.statement.total": {"it": "Totale pagato", "en": "Total paid"},
        "portale.statement.refused_amount": {
            "it": "Valore delle righe non pagate",
            "en": "Worth of the lines not paid",
        },
        "portale.statement.issued": {
            "it": "Emesso il {when}: {total} per {lines} righe.",
            "en": "Issued on {when}: {total} for {lines} lines.",
        },
        "portale.statement.not_issued": {
            "it": "Non ancora emesso: gli importi possono cambiare.",
            "en": "Not issued yet: the amounts may still change.",
        },
        "portale.line.tariff": {"it": "Tariffa", "en": "Tariff"},
        "portale.line.surcharge": {"it": "Maggiorazione", "en": "Surcharge"},
        "portale.line.amount": {"it": "Importo", "en": "Amount"},
        "portale.line.reason": {"it": "Motivo", "en": "Reason"},
        "portale.line.status.billed": {"it": "Pagata", "en": "Paid"},
        "portale.line.status.refused": {"it": "Non pagata", "en": "Not paid"},
        "portale.line.status.duplicate": {"it": "Doppione", "en": "Duplicate"},
        "portale.line.status.pending": {"it": "In attesa", "en": "Pending"},
    }
)
