"""Logging in and out of the desk in a real browser, and a session that expires: a desk of its
own whose identity provider issues tokens that last a few seconds (the desk checks the token
on every page, so the session ends with it) and whose session cookie lasts a minute.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest
from playwright.async_api import Page, expect

from cerniera.cli.devstack import DatabaseEndpoint, KafkaEndpoint
from cerniera.cli.identity.directory import Directory
from cerniera.cli.identity.provider import serving as serving_identity
from support.browser import assert_accessible, empty_database, log_in, module_kafka
from support.desk_login import register
from support.services import desk

pytestmark = [pytest.mark.browser, pytest.mark.integration]

TOKEN_LIFETIME_S = 4
SESSION_MAX_AGE_S = 60
"""The shortest session the desk's settings allow."""
USER = "as-sara-galli"


@dataclass(frozen=True)
class ShortDesk:
    url: str
    issuer: str


@contextlib.contextmanager
def environment(**values: str) -> Iterator[None]:
    """The desk reads its identity provider from the environment when it builds its app."""
    before = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.fixture(scope="module")
async def short_desk(kafka: KafkaEndpoint, database: DatabaseEndpoint) -> AsyncIterator[ShortDesk]:
    """The desk alone, on an identity provider of its own whose tokens last
    ``TOKEN_LIFETIME_S`` (verified with no leeway), with ``SESSION_MAX_AGE_S`` sessions."""
    kafka_settings = module_kafka(kafka)
    database_settings = await empty_database(database)
    with serving_identity(
        Directory(), open_registration=True, token_lifetime_s=TOKEN_LIFETIME_S
    ) as idp:
        register(idp.url, USER, "Sara Galli", ["equipe"], ambito_id="magentino")
        async with contextlib.AsyncExitStack() as running:
            with environment(OIDC_ISSUER=idp.url, OIDC_LEEWAY_S="0"):
                rt = desk(kafka_settings, database_settings, session_max_age_s=SESSION_MAX_AGE_S)
                await running.enter_async_context(rt.running())
            yield ShortDesk(url=str(rt.http_url), issuer=idp.url)


async def test_logging_out_ends_the_session(short_desk: ShortDesk, page: Page) -> None:
    await log_in(page, short_desk.url, USER, "/oggi")
    assert page.url == f"{short_desk.url}/oggi"
    await expect(page.get_by_text("Sara Galli")).to_be_visible()

    await page.get_by_role("link", name="Esci").click()
    await expect(page.get_by_role("heading", name="Sei uscito da Cerniera.")).to_be_visible()
    await assert_accessible(page, "the logged-out page")
    # The desk forgot the session: a page of the team sends the browser to log in again.
    await page.goto(f"{short_desk.url}/oggi")
    assert page.url.startswith(short_desk.issuer), page.url
    await expect(page.get_by_label("Utente")).to_be_visible()


async def test_a_session_ends_with_its_token(short_desk: ShortDesk, page: Page) -> None:
    logged_in = time.time()
    await log_in(page, short_desk.url, USER, "/oggi")
    assert page.url == f"{short_desk.url}/oggi"
    # The session cookie itself ends after the desk's session length, whatever happens.
    (cookie,) = [c for c in await page.context.cookies() if c["name"] == "cerniera_desk"]
    assert cookie["httpOnly"]
    assert logged_in + SESSION_MAX_AGE_S - 5 <= cookie["expires"] <= time.time() + SESSION_MAX_AGE_S

    # Once the token has expired, the same page asks to log in again...
    await page.wait_for_timeout((logged_in + TOKEN_LIFETIME_S + 1 - time.time()) * 1000)
    await page.reload()
    assert page.url.startswith(short_desk.issuer), page.url
    await expect(page.get_by_label("Utente")).to_be_visible()
    # ... and, logged in again, the person is back where they were.
    await page.get_by_label("Utente").select_option(USER)
    await page.get_by_label("Password").fill("cerniera")
    await page.get_by_role("button", name="Accedi").click()
    await page.wait_for_url(f"{short_desk.url}/oggi")
