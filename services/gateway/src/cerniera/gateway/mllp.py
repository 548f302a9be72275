"""The HL7 v2 door: MLLP, the Minimal Lower Layer Protocol, and the responder behind it.

Transport (``frame``, ``read_frame``, ``MllpServer``): HL7 v2 messages over TCP, each framed as
0x0B <message> 0x1C 0x0D, each answered on the same connection before the next is read; what a
message means is the responder's business.

The responder (``answer_hl7``): one payload in, read by ``hl7``, applied by ``cases.receive``,
and its ACK out, like the FHIR routes in ``api``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from typing import Final

import structlog

from cerniera.gateway import cases, hl7
from cerniera.shared.runtime import ServiceRuntime

log = structlog.get_logger(__name__)

START_BLOCK: Final = b"\x0b"
END_BLOCK: Final = b"\x1c\x0d"
MAX_MESSAGE_BYTES: Final = 1 << 20  # an ADT message is a few kB; this bounds a broken sender

Responder = Callable[[bytes], Awaitable[bytes]]


def frame(payload: bytes) -> bytes:
    return START_BLOCK + payload + END_BLOCK


async def read_frame(reader: asyncio.StreamReader) -> bytes | None:
    """The next message, or ``None`` when the peer closed the connection. Bytes before the
    start block (stray newlines, a keep-alive) are skipped."""
    try:
        await reader.readuntil(START_BLOCK)
        framed = await reader.readuntil(END_BLOCK)
    except asyncio.IncompleteReadError:
        return None
    return framed[: -len(END_BLOCK)]


class MllpServer:
    """An asyncio TCP listener; connections stay open for as many messages as the sender
    likes, as MLLP senders (interface engines) expect."""

    def __init__(self, respond: Responder, host: str, port: int) -> None:
        self._respond = respond
        self._host = host
        self._port = port
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        """The bound port (the one asked for, or the one picked for port 0)."""
        assert self._server is not None, "not started"
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._serve, self._host, self._port, limit=MAX_MESSAGE_BYTES
        )
        log.info("mllp.listening", host=self._host, port=self.port)

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
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        peer = writer.get_extra_info("peername")
        try:
            while (payload := await read_frame(reader)) is not None:
                writer.write(frame(await self._respond(payload)))
                await writer.drain()
        except (ConnectionError, asyncio.LimitOverrunError, ValueError) as exc:
            # ValueError: StreamReader's "separator not found, chunk exceeds the limit".
            log.warning("mllp.connection_dropped", peer=peer, error=repr(exc))
        finally:
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError, asyncio.CancelledError):
                await writer.wait_closed()


# --- the responder --------------------------------------------------------------------------


async def answer_hl7(runtime: ServiceRuntime, hospitals: Mapping[str, str], raw: bytes) -> bytes:
    """One MLLP payload in, its ACK out (in the same character set). AA only once committed,
    so an AA means stored."""
    try:
        text, charset = raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:  # HL7's 8859/1, the other charset Italian systems send
        text, charset = raw.decode("latin-1"), "latin-1"
    try:
        read = hl7.read(text, hospitals)
    except Exception:  # a message hl7apy chokes on in a way not foreseen: ours to fix
        log.exception("hl7.unreadable")
        read = hl7.Refused(
            hl7.Hl7Error(hl7.AckCode.REJECT, 207, "application internal error reading it")
        )
    if isinstance(read, hl7.Refused):
        error = read.error
        # Location and code only: the text may quote a patient's data.
        log.info("hl7.refused", ack=error.ack_code, code=error.error_code, at=str(error.location))
        return _encoded(hl7.refusal(read, runtime.clock.now()), charset)
    notice = read.notice
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


def _encoded(reply: str, charset: str) -> bytes:
    return reply.encode(charset, errors="replace")
