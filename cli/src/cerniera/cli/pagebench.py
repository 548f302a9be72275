"""``cerniera bench --pages``: how long the desk takes to answer each main screen.

N requests of each page (Oggi, a case, the readiness board, budget and outcomes, the provider
portal), one after another on one connection as a person's browser would make them, after one
untimed request that warms the caches; p50 and p95 per page against the 300 ms target. The
pages are rendered as the people who use them see them: a team member's session for the
team's pages, a provider coordinator's for the portal, each logged in through the real flow
(authorization code with PKCE, the identity provider's own form) or given as a session cookie.
"""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final
from urllib.parse import urljoin

import httpx

from cerniera.cli.identity.directory import DEMO_PASSWORD

TARGET_MS: Final = 300.0
SESSION_COOKIE: Final = "cerniera_desk"
TEAM_PAGES: Final = {"oggi": "/oggi", "caso": "/casi/{case_id}", "arrivi": "/arrivi"}
ADMIN_PAGES: Final = {"budget": "/budget"}
PROVIDER_PAGES: Final = {"portale": "/portale"}
_CASE_LINK: Final = re.compile(r'href="/casi/([^"?#]+)"')


class PageBenchError(Exception):
    """The desk could not be benchmarked (log-in refused, no case to open...)."""


@dataclass(frozen=True, slots=True)
class PageTiming:
    page: str
    path: str
    status: int
    """The status of the last request: a page that does not answer 200 is not a result."""
    samples_ms: tuple[float, ...]

    @property
    def p50_ms(self) -> float:
        return statistics.median(self.samples_ms)

    @property
    def p95_ms(self) -> float:
        return percentile(self.samples_ms, 95)

    @property
    def within_target(self) -> bool:
        return self.status == 200 and self.p95_ms < TARGET_MS


def percentile(samples: tuple[float, ...] | list[float], pct: float) -> float:
    """The ``pct``-th percentile, interpolated between the closest ranks (as numpy's default)."""
    ordered = sorted(samples)
    if not ordered:
        raise ValueError("no samples")
    rank = (len(ordered) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def log_in(
    desk_url: str, issuer: str, username: str, password: str = DEMO_PASSWORD
) -> httpx.Client:
    """A client with ``username``'s desk session: the desk's log-in redirect, the identity
    provider's form, the desk's callback, as a browser follows them."""
    client = httpx.Client(base_url=desk_url, timeout=30)
    try:
        start = client.get("/login", params={"next": "/"})
        authorize = start.headers.get("location", "")
        if start.status_code not in (302, 303, 307) or not authorize.startswith(issuer):
            raise PageBenchError(f"the desk did not send {username} to {issuer} to log in")
        answer = client.post(authorize, data={"username": username, "password": password})
        callback = answer.headers.get("location", "")
        if answer.status_code != 302 or "code=" not in callback:
            raise PageBenchError(f"log-in of {username!r} refused ({answer.status_code})")
        done = client.get(urljoin(desk_url, callback))
        if done.status_code not in (302, 303) or SESSION_COOKIE not in client.cookies:
            raise PageBenchError(f"the desk did not open a session for {username!r}")
    except BaseException:
        client.close()
        raise
    return client


def with_cookie(desk_url: str, cookie: str) -> httpx.Client:
    """A client with an existing desk session (the ``cerniera_desk`` cookie's value)."""
    return httpx.Client(base_url=desk_url, timeout=30, cookies={SESSION_COOKIE: cookie})


def first_case(client: httpx.Client) -> str:
    """A case the team's session can open: the first one linked from Oggi or the board."""
    for page in ("/oggi", "/arrivi"):
        found = _CASE_LINK.search(client.get(page).text)
        if found:
            return found.group(1)
    raise PageBenchError("no case linked from /oggi or /arrivi: give one with --case")


def time_page(client: httpx.Client, page: str, path: str, requests: int) -> PageTiming:
    client.get(path)  # warm-up, not timed
    samples: list[float] = []
    status = 0
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(path)
        samples.append((time.perf_counter() - started) * 1000)
        status = response.status_code
    return PageTiming(page, path, status, tuple(samples))


def run_pagebench(
    desk_url: str,
    *,
    issuer: str | None = None,
    team: str | None = "equipe-magentino",
    admin: str | None = "admin-magentino",
    provider: str | None = "operatore-asc-servizi-alla-persona",
    cookies: Mapping[str, str] | None = None,
    case_id: str | None = None,
    requests: int = 20,
    out: Callable[[str], None] = print,
) -> list[PageTiming]:
    """Time each main page ``requests`` times and print p50/p95 per page.

    Sessions: ``cookies`` (``team``/``admin``/``provider`` → the session cookie's value), or
    log-ins of the ``team``, ``admin`` and ``provider`` usernames at ``issuer`` (the demo's
    people by default); a role left ``None`` skips its pages."""
    if requests < 2:
        raise ValueError("at least 2 requests per page")
    users = {"team": team, "admin": admin, "provider": provider}
    pages = {"team": TEAM_PAGES, "admin": ADMIN_PAGES, "provider": PROVIDER_PAGES}
    results: list[PageTiming] = []
    for role, username in users.items():
        if cookies is not None:
            if role not in cookies:
                continue
            client = with_cookie(desk_url, cookies[role])
        elif username is not None:
            if issuer is None:
                raise ValueError("issuer is needed to log in (or give session cookies)")
            client = log_in(desk_url, issuer, username)
        else:
            continue
        try:
            for page, path in pages[role].items():
                if "{case_id}" in path:
                    path = path.format(case_id=case_id or first_case(client))
                results.append(time_page(client, page, path, requests))
        finally:
            client.close()
    out(report(results, requests))
    return results


def report(results: list[PageTiming], requests: int) -> str:
    lines = [f"desk pages, {requests} requests each (target: p95 under {TARGET_MS:.0f} ms)"]
    lines.append(f"{'page':<10} {'status':>6} {'p50 ms':>8} {'p95 ms':>8}  verdict")
    for r in results:
        verdict = "ok" if r.within_target else ("SLOW" if r.status == 200 else "NOT 200")
        lines.append(f"{r.page:<10} {r.status:>6} {r.p50_ms:>8.1f} {r.p95_ms:>8.1f}  {verdict}")
    return "\n".join(lines)
