"""MLLP, the Minimal Lower Layer Protocol: HL7 v2 messages over TCP, each framed as
0x0B <message> 0x1C 0x0D, each answered on the same connection before the next is read.

Transport only: what a message means is the responder's business.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Final

import structlog

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
