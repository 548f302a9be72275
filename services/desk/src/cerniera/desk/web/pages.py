"""What every page does: find who may see it (and write the audit log), and render its
template with the words, dates and money of the reader's language."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import HTMLResponse

from cerniera.desk.auth import User
from cerniera.desk.web import i18n
from cerniera.shared.access import Action
from cerniera.shared.access.web import record
from cerniera.shared.refusals import Forbidden

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
TEMPLATES.env.globals["service_types"] = ("sad", "meals", "teleassistance", "emergency_alarm")


def language(request: Request) -> str:
    return i18n.pick(request.query_params.get("lang") or request.cookies.get(i18n.LANG_COOKIE))


async def permit(request: Request, user: User, action: Action) -> None:
    """Let ``user`` do ``action`` or refuse (403 page); either way, in the audit log."""
    allowed = user.principal.may(action)
    await record(request, user.principal, action, "allowed" if allowed else "denied")
    if not allowed:
        raise Forbidden("access.role", i18n.text("error.forbidden", language(request)))
    request.state.access = (user.principal, action)


def render(
    request: Request,
    template: str,
    user: User | None,
    *,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    lang = language(request)

    def t(key: str, **values: object) -> str:
        return i18n.text(key, lang, **values)

    return TEMPLATES.TemplateResponse(
        request,
        template,
        {
            "user": user,
            "lang": lang,
            "t": t,
            "day": lambda value, style="medium": i18n.day(value, lang, style),
            "moment": lambda value: i18n.moment(value, lang),
            "money": lambda value: i18n.money(value, lang),
            "number": lambda value: i18n.number(value, lang),
            **context,
        },
        status_code=status_code,
    )
