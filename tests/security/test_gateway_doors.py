"""The gateway's doors under attack, on the REAL listeners, broker and database: senders that
may not speak, connection floods, messages and bodies too big or too complex, TLS clients
without the right certificate, and a database failure that must not spill a fiscal code into
the logs. Each hostile test checks the refusal, and that nothing changed: no visit stored, no
event queued or published.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import os
import resource
import ssl
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from sqlalchemy import text

from cerniera.gateway import hl7
from cerniera.gateway.service import GatewayRuntime
from cerniera.gateway.tables import outbox, visits
from cerniera.shared.contract import DischargeAnnounced, Topics
from cerniera.shared.envelope import decode
from cerniera.shared.logging import configure_logging
from cerniera.shared.settings import DatabaseSettings, KafkaSettings
from support.gateway_mllp import END, START, Ack, MllpClient
from support.gateway_running import LOOPBACK, count, mllp_port, published, running
from support.gateway_samples import (
    A13,
    A16,
    ENCOUNTER_IN_PROGRESS,
    HL7_CASE,
    HL7_FISCAL_CODE,
    fhir_resource,
    hl7_message,
)
from support.gateway_tls import HOSPITAL_CN, Issued, Pki, make_pki
from support.identity import Identity
from support.waiting import eventually


def san_gerardo() -> dict[str, str]:
    """The sample encounters' hospital's system (client credentials)."""
    return Identity(os.environ["OIDC_ISSUER"]).headers("hospital", hospital_id="irccs-san-gerardo")


pytestmark = pytest.mark.integration

CONTROL_ID = "SIO-20261123-000871"  # MSH-10 of the samples
OTHER_HOSPITAL = {"|ASST_VIMERCATE|CERNIERA|": "|HSG|CERNIERA|"}  # MSH-4 of a hospital
UNKNOWN_SENDER = {"|ASST_VIMERCATE|CERNIERA|": "|OSPEDALE_IGNOTO|CERNIERA|"}
TWO_HOSPITALS = {"ASST_VIMERCATE": "asst-vimercate", "HSG": "irccs-san-gerardo"}


async def unchanged(rt: GatewayRuntime, kafka: KafkaSettings, topics: Topics) -> None:
    """Nothing stored, nothing queued, nothing published."""
    assert await count(rt, visits) == 0
    assert await count(rt, outbox) == 0
    assert await published(rt, kafka, topics) == []


def not_admitted(ack: Ack, *secrets: str, control_id: str = CONTROL_ID) -> None:
    """The fixed AR: the message's own control id, and not a word about anyone."""
    assert (ack.code, ack.reason, ack.control_id) == ("AR", hl7.NOT_ADMITTED, control_id), ack
    assert ack.error_text == ""
    for secret in (*secrets, HL7_FISCAL_CODE, HL7_CASE, "V2026-000412", "asst-vimercate"):
        assert secret not in ack.text, (secret, ack)


# --- who may speak -------------------------------------------------------------------------


async def test_an_unconfigured_sender_gets_a_bare_ar_and_changes_nothing(
    kafka_settings: KafkaSettings, database_settings: DatabaseSettings, topics: Topics
) -> None:
    async with (
        running(kafka_settings, database_settings) as rt,
        MllpClient(LOOPBACK, mllp_port(rt)) as client,
    ):
        # Plain TCP: only MSH-4 says who speaks, and OSPEDALE_IGNOTO is no configured hospital.
        not_admitted(await client.send(hl7_message(A16, UNKNOWN_SENDER)), "OSPEDALE_IGNOTO")
        await unchanged(rt, kafka_settings, topics)

        # A real case exists now; a stranger cancelling it learns nothing and cancels nothing.
        assert (await client.send(hl7_message(A16))).code == "AA"
        cancel = await client.send(hl7_message(A13, UNKNOWN_SENDER))
        not_admitted(cancel, "OSPEDALE_IGNOTO", control_id="SIO-20261126-000097")
        records = await published(rt, kafka_settings, topics)
        assert [type(decode(r.value, r.headers).data) for r in records] == [DischargeAnnounced]
        async with rt.engine.connect() as conn:
            assert await conn.scalar(text("SELECT status FROM gateway.visits")) == "open"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@contextlib.asynccontextmanager
async def over_tls(
    kafka: KafkaSettings, database: DatabaseSettings, pki: Pki
) -> AsyncIterator[GatewayRuntime]:
    """The gateway with MLLP over TLS: the test CA's hospital certificate is ASST Vimercate."""
    async with running(
        kafka,
        database,
        mllp_allow_plaintext=False,
        mllp_tls_cert=pki.server.cert,
        mllp_tls_key=pki.server.key,
        mllp_tls_client_ca=pki.ca,
        gateway_client_certs={HOSPITAL_CN: "asst-vimercate"},
        gateway_hospitals=TWO_HOSPITALS,
    ) as rt:
        yield rt


async def refused_at_handshake(rt: GatewayRuntime, pki: Pki, who: Issued | None) -> None:
    """With TLS 1.3 the client may finish its side first; the server's alert then ends the
    connection at the first read, before any ACK."""
    with pytest.raises((ssl.SSLError, ConnectionError, asyncio.IncompleteReadError)):
        async with MllpClient(LOOPBACK, mllp_port(rt), pki.client(who)) as client:
            await client.send_bytes(hl7_message(A16).encode(), timeout=10)


async def test_tls_refuses_clients_without_the_hospitals_certificate(
    kafka_settings: KafkaSettings, database_settings: DatabaseSettings, topics: Topics, pki: Pki
) -> None:
    async with over_tls(kafka_settings, database_settings, pki) as rt:
        await refused_at_handshake(rt, pki, None)  # no certificate
        await refused_at_handshake(rt, pki, pki.stranger)  # same CN, another CA
        # Plain TCP to the TLS port: its bytes are no handshake.
        with pytest.raises((ConnectionError, asyncio.IncompleteReadError)):
            async with MllpClient(LOOPBACK, mllp_port(rt)) as plain:
                await plain.send_bytes(hl7_message(A16).encode(), timeout=10)
        await unchanged(rt, kafka_settings, topics)


async def test_a_certificate_speaks_for_its_own_hospital_only(
    kafka_settings: KafkaSettings, database_settings: DatabaseSettings, topics: Topics, pki: Pki
) -> None:
    async with over_tls(kafka_settings, database_settings, pki) as rt:
        port = mllp_port(rt)
        async with MllpClient(LOOPBACK, port, pki.client(pki.hospital)) as vimercate:
            # Another configured hospital's message, or an unconfigured sender's: AR.
            not_admitted(await vimercate.send(hl7_message(A16, OTHER_HOSPITAL)), "HSG")
            not_admitted(await vimercate.send(hl7_message(A16, UNKNOWN_SENDER)))
        async with MllpClient(LOOPBACK, port, pki.client(pki.unmapped)) as unmapped:
            # Signed by the hospitals' CA, but standing for no hospital.
            not_admitted(await unmapped.send(hl7_message(A16)))
        await unchanged(rt, kafka_settings, topics)

        async with MllpClient(LOOPBACK, port, pki.client(pki.hospital)) as vimercate:
            assert (await vimercate.send(hl7_message(A16))).code == "AA"
        [record] = await published(rt, kafka_settings, topics)
        assert decode(record.value, record.headers).source == "urn:dp:hospital:asst-vimercate"


# --- limits ----------------------------------------------------------------------------------


@pytest.fixture
def many_files() -> Iterator[None]:
    """Room for 2,000 connections, both ends in this process."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 8192 if hard == resource.RLIM_INFINITY else min(hard, 8192)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    if wanted < 5000:
        pytest.skip(f"only {wanted} file descriptors allowed")
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


async def test_2000_idle_connections_are_closed_and_a_sender_still_gets_answers(
    kafka_settings: KafkaSettings,
    database_settings: DatabaseSettings,
    topics: Topics,
    many_files: None,
) -> None:
    idle_s = 5.0
    async with (
        running(
            kafka_settings,
            database_settings,
            mllp_max_connections=200,
            mllp_idle_timeout_s=idle_s,
        ) as rt,
        MllpClient(LOOPBACK, mllp_port(rt)) as sender,  # connected before the flood
    ):
        assert rt.mllp is not None
        flood = await asyncio.gather(
            *(asyncio.open_connection(LOOPBACK, mllp_port(rt)) for _ in range(2000))
        )
        started = time.monotonic()
        ack = await sender.send(hl7_message(A16))
        assert ack.code == "AA", ack
        assert time.monotonic() - started < 3.0

        async def eof(reader: asyncio.StreamReader, within: float) -> bool:
            try:
                return await asyncio.wait_for(reader.read(1), within) == b""
            except ConnectionError:
                return True
            except TimeoutError:
                return False

        # Beyond 200 (the sender's included), each is closed as soon as it is accepted...
        at_once = await asyncio.gather(*(eof(reader, 1.0) for reader, _ in flood))
        assert sum(at_once) >= 2000 - 199
        assert rt.mllp.connections <= 200
        # ...and the others once idle for 5 s, without a message.
        later = await asyncio.gather(
            *(
                eof(reader, idle_s + 5)
                for (reader, _), gone in zip(flood, at_once, strict=True)
                if not gone
            )
        )
        assert all(later)
        for _, writer in flood:
            writer.close()
        mllp = rt.mllp

        async def connections() -> int:
            return mllp.connections

        await eventually(connections, lambda n: n == 0, what="every connection closed")
        # The door is open again to a new connection.
        async with MllpClient(LOOPBACK, mllp_port(rt)) as again:
            assert (await again.send(hl7_message(A13))).code == "AA"
        assert len(await published(rt, kafka_settings, topics)) == 2


class LagMeter:
    """Measures how late the event loop runs a task that wakes every 10 ms: a loop busy with
    work that should run elsewhere (parsing) shows as a big lag."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _tick(self) -> None:
        while True:
            before = time.monotonic()
            await asyncio.sleep(0.01)
            self.worst = max(self.worst, time.monotonic() - before - 0.01)

    def __enter__(self) -> LagMeter:
        self._task = asyncio.get_running_loop().create_task(self._tick())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()


def repeated_phone(times: int) -> str:
    """The A16 with PID-13 (the patient's phone) repeated ``times`` times."""
    phone = "0362 624118^PRN^PH"
    return hl7_message(A16, {phone: "~".join([phone] * times)})


async def test_pathological_messages_are_refused_or_parsed_without_starving_the_loop(
    kafka_settings: KafkaSettings, database_settings: DatabaseSettings, topics: Topics
) -> None:
    async with (
        running(kafka_settings, database_settings) as rt,
        MllpClient(LOOPBACK, mllp_port(rt)) as client,
    ):
        # 50,000 repetitions of a field (950 kB, under the size limit): hl7apy would chew on
        # it for seconds; it is refused before parsing.
        with LagMeter() as lag:
            started = time.monotonic()
            ack = await client.send(repeated_phone(50_000))
            elapsed = time.monotonic() - started
        assert (ack.code, ack.control_id) == ("AR", CONTROL_ID), ack
        assert "too complex" in ack.error_text
        assert elapsed < 2.0
        assert lag.worst < 0.2
        await unchanged(rt, kafka_settings, topics)

        # Just under the limit it is parsed (~0.1 ms an element), off the loop: the loop keeps
        # ticking meanwhile, where parsing on it would stall it for the whole parse.
        with LagMeter() as lag:
            started = time.monotonic()
            ack = await client.send(repeated_phone(1_500))
            elapsed = time.monotonic() - started
        assert ack.code == "AA", ack
        assert lag.worst < max(0.1, elapsed / 3), (lag.worst, elapsed)
        assert len(await published(rt, kafka_settings, topics)) == 1


async def test_a_message_over_the_size_limit_is_refused_and_its_connection_closed(
    kafka_settings: KafkaSettings, database_settings: DatabaseSettings, topics: Topics
) -> None:
    async with running(kafka_settings, database_settings, mllp_max_message_bytes=64 * 1024) as rt:
        reader, writer = await asyncio.open_connection(LOOPBACK, mllp_port(rt))
        padded = hl7_message(A16, {"Scompenso cardiaco": "x" * (128 * 1024)})
        writer.write(START + padded.encode() + END)
        with contextlib.suppress(ConnectionError):
            await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 10)  # the AR, then the end
        writer.close()
        ack = Ack(answer.removeprefix(START).removesuffix(END).decode())
        assert (ack.code, ack.reason) == ("AR", hl7.TOO_LARGE)
        await unchanged(rt, kafka_settings, topics)


# --- the FHIR door ---------------------------------------------------------------------------


def resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


async def test_fhir_bodies_too_big_or_not_fhir_json_are_refused_unread(
    kafka_settings: KafkaSettings, database_settings: DatabaseSettings, topics: Topics
) -> None:
    chunk = b" " * (64 * 1024)
    total = 200 * 1024 * 1024

    async def huge() -> AsyncIterator[bytes]:
        """200 MB, made as it is sent: the test holds 64 kB of it at a time."""
        for _ in range(total // len(chunk)):
            yield chunk

    peak = 0

    async def sample() -> None:
        nonlocal peak
        while True:
            peak = max(peak, resident_bytes())
            await asyncio.sleep(0.01)

    fhir_json = {"content-type": "application/fhir+json"}
    async with (
        running(kafka_settings, database_settings) as rt,
        httpx.AsyncClient(base_url=rt.http_url or "", timeout=60, headers=san_gerardo()) as http,
    ):
        baseline = resident_bytes()
        sampler = asyncio.get_running_loop().create_task(sample())
        try:
            streamed = await http.post("/fhir/Encounter", content=huge(), headers=fhir_json)
            declared = await http.post(
                "/fhir/Encounter",
                content=huge(),
                headers={**fhir_json, "content-length": str(total)},
            )
        finally:
            sampler.cancel()
        plain = await http.post(
            "/fhir/Encounter",
            content=str(fhir_resource(ENCOUNTER_IN_PROGRESS)).encode(),
            headers={"content-type": "text/plain"},
        )
        missing = await http.post("/fhir", content=b"{}")
        await unchanged(rt, kafka_settings, topics)

    for response in (streamed, declared):
        assert response.status_code == 413, response.text
        assert response.json()["detail"]["code"] == "request.too_large"
    # Refused after the first MiB or so, not once 200 MB were in memory.
    assert peak - baseline < 100 * 1024 * 1024, (peak - baseline) // (1024 * 1024)
    for response in (plain, missing):
        assert response.status_code == 415, response.text
        assert set(response.json()["detail"]) == {"code", "message"}
        assert response.json()["detail"]["code"] == "request.media_type"


# --- logs ------------------------------------------------------------------------------------


@contextlib.contextmanager
def production_logs() -> Iterator[io.StringIO]:
    """Logs rendered as in production (JSON lines, INFO and up), into a string."""
    captured = io.StringIO()
    configure_logging("INFO", json=True)
    root = logging.getLogger()
    [handler] = root.handlers
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(captured)
    try:
        yield captured
    finally:
        configure_logging(os.environ.get("LOG_LEVEL", "WARNING"), json=False)


async def test_a_database_error_while_writing_leaves_no_fiscal_code_in_the_logs(
    kafka_settings: KafkaSettings, database_settings: DatabaseSettings, topics: Topics
) -> None:
    async with (
        running(kafka_settings, database_settings) as rt,
        MllpClient(LOOPBACK, mllp_port(rt)) as client,
    ):
        async with rt.engine.begin() as conn:  # the visit's INSERT fails, fiscal code and all
            await conn.execute(
                text(
                    "CREATE FUNCTION gateway.refuse_write() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$ BEGIN RAISE EXCEPTION 'simulated storage failure'; END $$"
                )
            )
            await conn.execute(
                text(
                    "CREATE TRIGGER refuse_write BEFORE INSERT ON gateway.visits "
                    "FOR EACH ROW EXECUTE FUNCTION gateway.refuse_write()"
                )
            )
        with production_logs() as logs:
            ack = await client.send(hl7_message(A16))
        await unchanged(rt, kafka_settings, topics)

    assert (ack.code, ack.error_code) == ("AE", "207^Application internal error^HL70357"), ack
    output = logs.getvalue()
    assert "hl7.failed" in output  # the failure is logged...
    assert "simulated storage failure" in output  # ...with its cause...
    assert HL7_FISCAL_CODE not in output  # ...and without the patient's fiscal code
    assert "Brambilla" not in output
