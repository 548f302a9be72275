"""The browser tests' fixtures: Debian's Chromium (one for the session), and the whole system
running in this process for a test module on the real broker and database — intake,
activation, monitoring, billing and the desk — with the people the tests log in as.

A machine without Chromium or axe-core fails these tests with what to install (see
``support.browser``): they are never skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from cerniera.cli.devstack import DatabaseEndpoint, KafkaEndpoint
from cerniera.shared.contract import Topics
from support.browser import (
    PEOPLE,
    Missing,
    Stack,
    axe_path,
    chromium_path,
    empty_database,
    launch,
    module_kafka,
    new_context,
)
from support.desk_login import register
from support.identity import Identity
from support.services import desk, service_runtime

SERVICES = ("intake", "activation", "monitoring", "billing")


@pytest.fixture(scope="session", autouse=True)
def chromium() -> str:
    """Chromium and axe-core, or every test here fails at once saying what to install."""
    try:
        axe_path()
        return chromium_path()
    except Missing as missing:
        pytest.fail(str(missing), pytrace=False)


@pytest.fixture(scope="session")
async def browser(chromium: str) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await launch(playwright)
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    """A browser of its own for each test (its own cookies), at 1280x800."""
    made = await new_context(browser)
    try:
        yield made
    finally:
        await made.close()


@pytest.fixture
async def page(context: BrowserContext) -> Page:
    return await context.new_page()


@pytest.fixture(scope="module")
async def stack(
    kafka: KafkaEndpoint, database: DatabaseEndpoint, identity: Identity
) -> AsyncIterator[Stack]:
    """Intake, activation, monitoring, billing and the desk, running for the module."""
    kafka_settings = module_kafka(kafka)
    database_settings = await empty_database(database)
    for username, (name, roles, scope) in PEOPLE.items():
        register(identity.issuer, username, name, roles, **scope)
    runtimes = {name: service_runtime(name, kafka_settings, database_settings) for name in SERVICES}
    async with contextlib.AsyncExitStack() as running:
        await asyncio.gather(
            *(running.enter_async_context(rt.running()) for rt in runtimes.values())
        )
        urls = {name: str(rt.http_url) for name, rt in runtimes.items()}
        the_desk = desk(kafka_settings, database_settings, urls=urls)
        await running.enter_async_context(the_desk.running())
        runtimes["desk"] = the_desk
        yield Stack(
            kafka=kafka_settings,
            database=database_settings,
            topics=Topics(prefix=kafka_settings.topic_prefix),
            issuer=identity.issuer,
            urls=urls,
            desk_url=str(the_desk.http_url),
            clock=the_desk.clock,
            runtimes=runtimes,
        )
