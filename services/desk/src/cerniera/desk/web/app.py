"""The desk's ASGI app: log-in and log-out, the language, the assets, and the pages of the
team (``team``), of the budget and outcomes (``reports``) and of the providers (``portal``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

from fastapi import FastAPI, Query, Request
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware
from starlette.responses import RedirectResponse, Response

from cerniera.desk import auth
from cerniera.desk.auth import CurrentUser, LoginRequired
from cerniera.desk.config import DeskSettings
from cerniera.desk.live import Changes
from cerniera.desk.services import Services, ServiceUnavailable
from cerniera.desk.web import i18n, portal, reports, team
from cerniera.desk.web.pages import language, render
from cerniera.shared.access.tokens import OidcSettings
from cerniera.shared.http import service_app
from cerniera.shared.refusals import Forbidden, NotFound
from cerniera.shared.runtime import ServiceRuntime

STATIC = Path(__file__).parent / "static"


def create_app(runtime: ServiceRuntime, settings: DeskSettings, changes: Changes) -> FastAPI:
    app = service_app(
        runtime,
        title="Cerniera desk",
        description="The district team's screens and the providers' portal (HTML).",
    )
    oidc = OidcSettings()
    app.state.runtime = runtime
    app.state.settings = settings
    app.state.changes = changes
    app.state.verifier = runtime.access.verifier
    app.state.oauth = auth.oauth_client(oidc.issuer, settings) if oidc.issuer else None
    app.state.services = Services.open(settings)
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.session_secret,
        session_cookie="cerniera_desk",
        max_age=settings.session_max_age_s,
        same_site="lax",
        https_only=settings.secure_cookies,
    )
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.middleware("http")(_same_origin_posts)
    app.add_exception_handler(LoginRequired, auth.to_login)
    app.add_exception_handler(Forbidden, _forbidden_page)
    app.add_exception_handler(NotFound, _not_found_page)
    app.add_exception_handler(ServiceUnavailable, _unavailable_page)
    _identity_routes(app, settings)
    for pages in (team, reports, portal):
        app.include_router(pages.router)
    return app


def _identity_routes(app: FastAPI, settings: DeskSettings) -> None:
    @app.get("/", include_in_schema=False)
    async def home(user: CurrentUser) -> Response:
        return RedirectResponse(user.home, status_code=303)

    @app.get("/login", include_in_schema=False)
    async def login(request: Request, next: Annotated[str, Query()] = "/") -> Response:
        oauth = request.app.state.oauth
        if oauth is None:
            return render(request, "message.html", None, status_code=503, key="error.unavailable")
        # Only a path of this site: never a redirect elsewhere after logging in.
        request.session["next"] = next if next.startswith("/") and "//" not in next else "/"
        base = settings.public_url or str(request.base_url)
        redirect: Response = await oauth.idp.authorize_redirect(
            request, f"{base.rstrip('/')}/auth/callback"
        )
        return redirect

    @app.get("/auth/callback", include_in_schema=False)
    async def callback(request: Request) -> Response:
        oauth = request.app.state.oauth
        next_url = str(request.session.get("next", "/"))
        try:
            token = await oauth.idp.authorize_access_token(request)
            await auth.begin_session(request, request.app.state.verifier, token)
        except Exception:  # a refused or replayed code, a state that does not match
            request.session.clear()
            return render(request, "message.html", None, status_code=400, key="login.failed")
        return RedirectResponse(next_url, status_code=303)

    @app.get("/logout", include_in_schema=False)
    async def logout(request: Request) -> Response:
        request.session.clear()
        # Also end the identity provider's session where it has one (Keycloak), or the next
        # log-in on a shared office computer would let the same person straight back in.
        oauth = request.app.state.oauth
        metadata = await oauth.idp.load_server_metadata() if oauth is not None else {}
        end_session = metadata.get("end_session_endpoint")
        if end_session:
            base = (settings.public_url or str(request.base_url)).rstrip("/")
            query = urlencode(
                {"client_id": settings.client_id, "post_logout_redirect_uri": f"{base}/uscito"}
            )
            return RedirectResponse(f"{end_session}?{query}", status_code=303)
        return render(request, "message.html", None, key="logout.done")

    @app.get("/uscito", include_in_schema=False)
    async def logged_out(request: Request) -> Response:
        return render(request, "message.html", None, key="logout.done")

    @app.get("/lingua", include_in_schema=False)
    async def switch_language(
        request: Request, lang: Annotated[str, Query()] = i18n.DEFAULT
    ) -> Response:
        back = request.headers.get("referer") or "/"
        response = RedirectResponse(back, status_code=303)
        response.set_cookie(i18n.LANG_COOKIE, i18n.pick(lang), samesite="lax", max_age=31536000)
        return response


async def _same_origin_posts(request: Request, call_next: Any) -> Response:
    """Refuse a form posted from another site or another port of this host (CSRF): browsers
    send ``Origin`` with every POST, so a forged one names the other site (or ``null``); the
    session cookie's SameSite=Lax is the second lock. A client that is no browser sends none
    and cannot be led by another site."""
    if request.method == "POST":
        origin = request.headers.get("origin")
        public = request.app.state.settings.public_url
        own = {_origin(str(request.base_url))} | ({_origin(public)} if public else set())
        if origin is not None and (origin == "null" or _origin(origin) not in own):
            return render(request, "message.html", None, status_code=403, key="error.forbidden")
    response: Response = await call_next(request)
    return response


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


async def _forbidden_page(request: Request, error: Exception) -> Response:
    return render(request, "message.html", None, status_code=403, key="error.forbidden")


async def _not_found_page(request: Request, error: Exception) -> Response:
    return render(request, "message.html", None, status_code=404, key="error.not_found")


async def _unavailable_page(request: Request, error: Exception) -> Response:
    return render(request, "message.html", None, status_code=503, key="error.unavailable")


__all__ = ["create_app", "language"]
