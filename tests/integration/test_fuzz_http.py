"""Every HTTP API under a property-based fuzzer: Schemathesis reads the service's own OpenAPI
and sends what it allows and what it does not (wrong types, NULs and control characters,
huge integers, unknown fields, bad paths), to the service running for real (broker, database,
HTTP on loopback), with one case of the OpenAPI's example id known to it.

Nothing may answer 5xx or drop the connection, and every answer must be one the OpenAPI
declares (status, content type, body schema): bad input gets a 4xx, never a 500, and never an
OK for what cannot be kept.

``CERNIERA_FUZZ_EXAMPLES`` examples per operation (default 25, modest for CI; 150 for a full
run); ``CERNIERA_FUZZ_SEED`` to replay a run (default: a fixed seed, so CI is repeatable).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events
from sqlalchemy import func, select

from cerniera.gateway.tables import outbox, visits
from cerniera.shared.contract import Topics
from cerniera.shared.envelope import Envelope
from cerniera.shared.http import EXAMPLE_CASE
from cerniera.shared.runtime import ServiceRuntime
from cerniera.shared.settings import DatabaseSettings, KafkaSettings
from support.discharges import announced, from_hospital
from support.gateway_samples import ENCOUNTER_IN_PROGRESS, fhir_resource
from support.identity import Identity
from support.kafka import publish
from support.monitoring_events import confirmed, from_intake
from support.services import service_runtime
from support.waiting import eventually

pytestmark = [
    pytest.mark.integration,
    # Raised inside Schemathesis' own strategies, not ours.
    pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning"),
]

EXAMPLES = int(os.environ.get("CERNIERA_FUZZ_EXAMPLES", "25"))
SEED = int(os.environ.get("CERNIERA_FUZZ_SEED", "20241003"))
EXAMPLE_REF = EXAMPLE_CASE.partition(":")[2]


# --- the services, each with the example case known to it ----------------------------------


def _seed(name: str, topics: Topics) -> tuple[str, Envelope, str] | None:
    """What makes the OpenAPI's example case known to the service: (topic, event, a path that
    answers 200 once it is stored)."""
    case = f"/cases/{EXAMPLE_CASE}"
    if name == "intake":
        event = from_hospital(announced(discharge_ref=EXAMPLE_REF, assessment=None))
        return topics.hospital_discharges, event, case
    if name == "monitoring":
        return topics.intake_cases, from_intake(confirmed(EXAMPLE_REF)), case
    if name == "activation":
        event = from_intake(confirmed(EXAMPLE_REF))
        return topics.intake_cases, event, f"{case}/readiness"
    return None


@contextlib.asynccontextmanager
async def serving(
    name: str, kafka: KafkaSettings, database: DatabaseSettings
) -> AsyncIterator[ServiceRuntime]:
    """The service running, its API on loopback, the example case stored."""
    rt = service_runtime(name, kafka, database)
    async with rt.running():
        assert rt.http_url is not None
        seed = _seed(name, rt.topics)
        if seed is not None:
            topic, event, path = seed
            await publish(kafka, topic, event)
            async with httpx.AsyncClient(
                base_url=rt.http_url, timeout=10, headers=caller(name)
            ) as client:
                probe: Callable[[], Awaitable[httpx.Response]] = lambda: client.get(path)  # noqa: E731
                await eventually(probe, lambda r: r.status_code == 200, what=f"{name}: {path}")
        yield rt


# --- the fuzzer -----------------------------------------------------------------------------


def caller(name: str) -> dict[str, str]:
    """Who calls each service in these tests: its own users (a hospital's system on the
    gateway, the administration of one district on billing, the team elsewhere)."""
    identity = Identity(os.environ["OIDC_ISSUER"])
    if name == "gateway":
        return identity.headers("hospital", hospital_id="asst-vimercate")
    if name == "billing":
        return identity.headers("district_admin", ambito_id="desio")
    return identity.team()


def fuzz(base_url: str, headers: dict[str, str]) -> list[str]:
    """Run Schemathesis over the service's OpenAPI; every failed check, readably."""
    config = SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "base-url": base_url,
            "headers": headers,
            "request-timeout": 10,
            "cache": {"enabled": False},
            "continue-on-failure": True,
            # No example database: a run depends on its seed alone, not on earlier runs.
            "generation": {"max-examples": EXAMPLES, "mode": "all", "database": "none"},
            # Links between operations are not declared: nothing for the stateful phase.
            "phases": {"stateful": {"enabled": False}},
            # Accepting all that the schema allows is not asked: the rules a service applies
            # beyond it (a district's checklist, an intensity only when eligible, a known
            # district) refuse schema-valid requests with a 4xx, as they should.
            "checks": {"positive_data_acceptance": {"enabled": False}},
        }
    )
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json", config=config)
    found: list[str] = []
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished | events.FuzzScenarioFinished):
            found.extend(_failures(event.recorder))
        elif isinstance(event, events.NonFatalError):
            found.append(f"{event.label}: error {event.info.title}: {event.info.message}")
        elif isinstance(event, events.FatalError):
            found.append(f"fatal: {event.exception!r}")
    return sorted(set(found))


def _failures(recorder: Any) -> list[str]:
    found = []
    for case_id, checks in recorder.checks.items():
        for check in checks:
            info = check.failure_info
            if info is None:
                continue
            failure = info.failure
            interaction = recorder.interactions.get(case_id)
            status = (
                interaction.response.status_code
                if interaction is not None and interaction.response is not None
                else None
            )
            request = (
                f"{interaction.request.method} {interaction.request.uri}"
                if interaction is not None
                else recorder.label
            )
            found.append(
                f"{recorder.label} [{check.name}] {failure.title}: {status} for {request}\n"
                f"    {failure.message.splitlines()[0] if failure.message else ''}\n"
                f"    {info.code_sample.splitlines()[0] if info.code_sample else ''}"
            )
    return found


@pytest.mark.parametrize("name", ["intake", "activation", "monitoring", "billing", "gateway"])
async def test_no_input_makes_a_service_fail_or_answer_outside_its_openapi(
    name: str, kafka_settings: KafkaSettings, database_settings: DatabaseSettings
) -> None:
    async with serving(name, kafka_settings, database_settings) as rt:
        assert rt.http_url is not None
        failures = await asyncio.to_thread(fuzz, rt.http_url, caller(name))
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures)


# --- what the fuzzer found, kept as plain examples -----------------------------------------

NUL = "Ros\x00si"
INVALID = (422, "request.invalid")
Expected = tuple[int, str]
Probe = tuple[str, str, dict[str, Any], Expected]

TAKING_CHARGE = {
    "pai": {"objectives": ["Rientro a domicilio"]},
    "information": {"notes": NUL},
}
ASSESSMENT = {"answers": {"R1": "yes"}, "notes": NUL}
BRASS = {
    "age": 82,
    "living_situation": "alone_with_family_support",
    "cognition": "oriented",
    "mobility": "walks_with_aids",
    "sensory_deficits": "vision_or_hearing",
    "previous_admissions": 1,
    "active_problems": 4,
    "drugs": 6,
}
OVERRIDE = {"decision": "not_eligible", "reason": NUL}

FOUND: dict[str, list[Probe]] = {
    "intake": [
        ("PUT", f"/cases/{EXAMPLE_CASE}/taking-charge", {"json": TAKING_CHARGE}, INVALID),
        ("PUT", f"/cases/{EXAMPLE_CASE}/assessment", {"json": ASSESSMENT}, INVALID),
        ("POST", f"/cases/{EXAMPLE_CASE}/override", {"json": OVERRIDE}, INVALID),
        (
            "PUT",
            f"/cases/{EXAMPLE_CASE}/assessment",
            {"json": {**ASSESSMENT, "notes": "ok", "assessed_by": "op\x00"}},
            INVALID,
        ),
        ("GET", "/cases/a%00b", {}, INVALID),
        ("GET", "/cases/asst-vimercate:a%00b", {}, INVALID),
        ("GET", "/cases", {"params": {"offset": "9223372036854775808"}}, INVALID),
        ("POST", "/brass", {"json": BRASS, "params": {"ambito_id": "a\x00b"}}, INVALID),
        # A case's own reference may contain "/": still the case, or no such case.
        ("GET", f"/cases/{EXAMPLE_CASE}", {}, (200, "")),
        ("GET", f"/cases/{EXAMPLE_CASE}/assessment", {}, (404, "case.unknown")),
    ],
    "activation": [
        ("GET", "/cases/a%00b/readiness", {}, INVALID),
        ("GET", f"/cases/{EXAMPLE_CASE}/readiness", {}, (200, "")),
        ("GET", "/cases", {"params": {"limit": "9223372036854775808"}}, INVALID),
    ],
    "monitoring": [
        (
            "POST",
            f"/cases/{EXAMPLE_CASE}/checks",
            {"json": {"outcome": "stable", "notes": NUL}},
            INVALID,
        ),
        (
            "POST",
            f"/cases/{EXAMPLE_CASE}/close",
            {"json": {"outcome": "deceased", "note": NUL}},
            INVALID,
        ),
        ("GET", "/cases/a%00b", {}, INVALID),
        ("GET", "/checks/due", {"params": {"ambito_id": "a\x00b"}}, INVALID),
        ("GET", "/checks/due", {"params": {"on": "0"}}, INVALID),
        ("GET", f"/cases/{EXAMPLE_CASE}", {}, (200, "")),
        ("GET", "/cases/asst-vimercate:V2024/000123", {}, (404, "case.unknown")),
    ],
    "billing": [
        ("GET", "/statements/a%00b/2024-10", {}, INVALID),
        ("GET", "/statements/coop-il-melograno/0000-01", {}, INVALID),
        ("GET", "/statements/coop-il-melograno/9999-12", {}, INVALID),
        ("GET", "/statements/coop-il-melograno/0000-01.csv", {}, INVALID),
        ("POST", "/statements/coop-il-melograno/9999-12/issue", {}, INVALID),
        ("GET", "/statements/coop%0D%0AX-Evil:%201/2024-10.csv", {}, INVALID),
        (
            "GET",
            "/statements/coop-il-melograno/2024-10",
            {"params": {"ambito_id": "a\x00"}},
            INVALID,
        ),
        # Read by the provider itself (a district's administration knows no such provider).
        (
            "GET",
            "/statements/cooperativa-citt%C3%A0/2024-10.csv",
            {"as_provider": "cooperativa-città"},
            (200, ""),
        ),
    ],
}


def _code(response: httpx.Response) -> str:
    """The error body's code; "" for a success, the text of anything else."""
    if response.status_code < 400:
        return ""
    try:
        return str(response.json()["detail"]["code"])
    except (ValueError, KeyError, TypeError):
        return response.text[:60]


@pytest.mark.parametrize("name", list(FOUND))
async def test_what_the_fuzzer_found_is_a_4xx_in_the_one_error_body(
    name: str, kafka_settings: KafkaSettings, database_settings: DatabaseSettings
) -> None:
    """NULs in text and ids, an offset past 64 bits, months that are no date, a provider id
    that would break a header: each once answered 500 (or dropped the connection)."""
    answered: list[Expected] = []
    dispositions = []
    async with serving(name, kafka_settings, database_settings) as rt:
        assert rt.http_url is not None
        async with httpx.AsyncClient(
            base_url=rt.http_url, timeout=10, headers=caller(name)
        ) as client:
            for method, url, options, _ in FOUND[name]:
                kwargs = dict(options)
                if provider := kwargs.pop("as_provider", None):
                    kwargs["headers"] = Identity(os.environ["OIDC_ISSUER"]).headers(
                        "provider", provider_id=provider
                    )
                try:
                    response = await client.request(method, url, **kwargs)
                except httpx.TransportError as exc:  # a dropped connection
                    answered.append((0, type(exc).__name__))
                    continue
                answered.append((response.status_code, _code(response)))
                if url.endswith(".csv") and response.status_code == 200:
                    dispositions.append(response.headers["content-disposition"])
    expected = [e for *_, e in FOUND[name]]
    assert answered == expected, "\n".join(
        f"{method} {url}: {got} (expected {want})"
        for (method, url, _, want), got in zip(FOUND[name], answered, strict=True)
    )
    if name == "billing":  # RFC 6266: an ASCII fallback, and the UTF-8 name itself
        assert dispositions == [
            'attachment; filename="cooperativa-citt_-2024-10.csv"; '
            "filename*=UTF-8''cooperativa-citt%C3%A0-2024-10.csv"
        ]


async def test_the_gateway_refuses_a_name_no_service_could_keep(
    kafka_settings: KafkaSettings, database_settings: DatabaseSettings
) -> None:
    """It once answered 202 to this Encounter, and intake and activation then dead-lettered
    the announcement: the hospital was told OK for a case that never existed."""
    encounter = fhir_resource(ENCOUNTER_IN_PROGRESS)
    encounter["contained"][0]["name"][0]["family"] = NUL
    async with serving("gateway", kafka_settings, database_settings) as rt:
        assert rt.http_url is not None
        hospital = Identity(os.environ["OIDC_ISSUER"]).headers(
            "hospital", hospital_id="irccs-san-gerardo"
        )
        async with httpx.AsyncClient(base_url=rt.http_url, timeout=10, headers=hospital) as client:
            response = await client.post("/fhir/Encounter", json=encounter)
        async with rt.engine.connect() as conn:
            stored = [
                await conn.scalar(select(func.count()).select_from(table))
                for table in (visits, outbox)
            ]
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/fhir+json")
    [issue] = response.json()["issue"]
    assert (issue["code"], issue["expression"]) == ("value", ["Encounter.contained[0].name.family"])
    assert stored == [0, 0]
