"""The HL7 v2 door: MLLP, the Minimal Lower Layer Protocol, and the responder behind it.

Transport (``frame``, ``read_frame``, ``MllpServer``): HL7 v2 messages over TCP (or TLS), each
framed as 0x0B <message> 0x1C 0x0D, each answered on the same connection before the next is
read, within limits (message size, connections, idle time); what a message means is the
responder's business.

The responder (``answer_hl7``): one payload in, its sender admitted (``senders``), read by
``hl7`` off the event loop, applied by ``cases.receive``, and its ACK out, like the FHIR
routes in ``api``.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Final

import structlog

from cerniera.gateway import cases, hl7
from cerniera.gateway.senders import Peer, admitted, peer_of
from cerniera.shared.runtime import ServiceRuntime

log = structlog.get_logger(__name__)

START_BLOCK: Final = b"\x0b"
END_BLOCK: Final = b"\x1c\x0d"

Responder = Callable[[bytes, Peer], Awaitable[bytes]]
Rejection = Callable[[], bytes]


def frame(payload: bytes) -> bytes:
    return START_BLOCK + payload + END_BLOCK


async def read_frame(reader: asyncio.StreamReader) -> bytes | None:
    """The next message, or ``None`` when the peer closed the connection. Bytes before the
    start block (stray newlines, a keep-alive) are skipped. A message (or noise) longer than
    the reader's limit raises ``LimitOverrunError`` or ``ValueError``, buffering no more."""
    try:
        await reader.readuntil(START_BLOCK)
        framed = await reader.readuntil(END_BLOCK)
    except asyncio.IncompleteReadError:
        return None
    return framed[: -len(END_BLOCK)]


@dataclass(frozen=True)
class Limits:
    """What one sender may take (``GatewaySettings`` has the defaults and their reasons)."""

    max_message_bytes: int
    max_connections: int
    idle_timeout_s: float


class MllpServer:
    """An asyncio TCP (or TLS) listener; connections stay open for as many messages as the
    sender likes, as MLLP senders (interface engines) expect, but no longer than ``Limits``
    allow: one idle too long is closed, and beyond the maximum a new one is closed at once."""

    def __init__(
        self,
        respond: Responder,
        host: str,
        port: int,
        *,
        limits: Limits,
        tls: ssl.SSLContext | None = None,
        certificates: Mapping[str, str] | None = None,
        too_large: Rejection | None = None,
    ) -> None:
        """``certificates``: client certificate name → hospital id (with ``tls``);
        ``too_large``: the answer to a message over the size limit, before closing."""
        self._respond = respond
        self._host = host
        self._port = port
        self._limits = limits
        self._tls = tls
        self._certificates = certificates or {}
        self._too_large = too_large
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        """The bound port (the one asked for, or the one picked for port 0)."""
        assert self._server is not None, "not started"
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def connections(self) -> int:
        """Connections being served now."""
        return len(self._connections)

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._serve,
            self._host,
            self._port,
            limit=self._limits.max_message_bytes,
            ssl=self._tls,
            ssl_handshake_timeout=self._limits.idle_timeout_s if self._tls else None,
            backlog=1024,
        )
        log.info("mllp.listening", host=self._host, port=self.port, tls=self._tls is not None)

    async def stop(self) -> None:
        """Stop listening and drop open connections; a message being applied is rolled back
        and, unacknowledged, sent again by its sender."""
        if self._server is None:
            return
        self._server.close()
        for task in list(self._connections):
            task.cancel()
        for task in list(self._connections):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._server.wait_closed()
        self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer_address = writer.get_extra_info("peername")
        if len(self._connections) >= self._limits.max_connections:
            log.info("mllp.connection_refused", peer=peer_address, reason="too many connections")
            writer.transport.abort()  # no goodbye: an idle flood must cost nothing more
            return
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        peer = peer_of(writer.get_extra_info("ssl_object"), self._certificates)
        try:
            while True:
                async with asyncio.timeout(self._limits.idle_timeout_s):
                    payload = await read_frame(reader)
                if payload is None:
                    break
                writer.write(frame(await self._respond(payload, peer)))
                await writer.drain()
        except TimeoutError:
            log.info("mllp.connection_idle", peer=peer_address)
        except (asyncio.LimitOverrunError, ValueError):
            # ValueError: StreamReader's "separator not found, chunk exceeds the limit".
            log.warning("mllp.message_too_large", peer=peer_address)
            if self._too_large is not None:
                with contextlib.suppress(ConnectionError, ssl.SSLError, TimeoutError):
                    writer.write(frame(self._too_large()))
                    await writer.drain()
                    await _discard(reader, writer, min(self._limits.idle_timeout_s, 5.0))
        except (ConnectionError, ssl.SSLError) as exc:
            log.warning("mllp.connection_dropped", peer=peer_address, error=repr(exc))
        finally:
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError, ssl.SSLError, asyncio.CancelledError):
                await writer.wait_closed()


async def _discard(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, seconds: float
) -> None:
    """Read and drop what the peer still sends, for ``seconds`` at most: closing with unread
    bytes would reset the connection, and the peer would lose the answer it was just sent."""
    if writer.can_write_eof():
        writer.write_eof()
    async with asyncio.timeout(seconds):
        while await reader.read(1 << 16):
            pass


# --- the responder --------------------------------------------------------------------------


async def answer_hl7(
    runtime: ServiceRuntime, hospitals: Mapping[str, str], raw: bytes, peer: Peer
) -> bytes:
    """One MLLP payload in, its ACK out (in the same character set). AA only once committed,
    so an AA means stored. A sender that may not speak on this connection gets a fixed AR
    before its message is parsed."""
    try:
        text, charset = raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:  # HL7's 8859/1, the other charset Italian systems send
        text, charset = raw.decode("latin-1"), "latin-1"
    header = hl7.peek(text)
    speaker = admitted(peer, header.sending_facility, hospitals) if header else None
    if header is not None and speaker is None:
        return _not_admitted(runtime, header, peer, charset)
    try:
        # Off the event loop: a big message takes a while, and the loop keeps the other
        # connections, the outbox relay and the Kafka heartbeats going meanwhile.
        read = await asyncio.to_thread(hl7.read, text, hospitals)
    except Exception:  # a message the reader chokes on in a way not foreseen: ours to fix
        log.exception("hl7.unreadable")
        error = hl7.Hl7Error(hl7.AckCode.REJECT, 207, "application internal error reading it")
        read = hl7.Refused(error, header or hl7.Header())  # still answering its MSH-10
    if isinstance(read, hl7.Refused):
        error = read.error
        # Location and code only: the text may quote a patient's data.
        log.info("hl7.refused", ack=error.ack_code, code=error.error_code, at=str(error.location))
        return _encoded(hl7.refusal(read, runtime.clock.now()), charset)
    notice = read.notice
    if notice.hospital_id != speaker:  # MSH-4 read otherwise than ``peek`` did: refuse
        return _not_admitted(runtime, read.header, peer, charset)
    try:
        async with cases.speaking_for(runtime.db, notice.hospital_id) as uow:
            summary = await cases.receive(uow, notice)
    except Exception:  # database down, ...: nothing was applied, the sender may retry
        log.exception("hl7.failed", control_id=read.header.control_id)
        error = hl7.Hl7Error(
            hl7.AckCode.ERROR, 207, "application internal error: nothing was applied; send again"
        )
        return _encoded(hl7.refusal(hl7.Refused(error, read.header), runtime.clock.now()), charset)
    return _encoded(hl7.ack(read.header, hl7.AckCode.ACCEPT, summary, runtime.clock.now()), charset)


def _not_admitted(runtime: ServiceRuntime, header: hl7.Header, peer: Peer, charset: str) -> bytes:
    log.warning("hl7.not_admitted", tls=peer.tls, certificate_hospital=peer.hospital_id)
    return _encoded(hl7.not_admitted(header, runtime.clock.now()), charset)


def _encoded(reply: str, charset: str) -> bytes:
    return reply.encode(charset, errors="replace")
