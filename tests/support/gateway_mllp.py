"""A minimal MLLP client, written from the framing rules (0x0B message 0x1C 0x0D) rather than
from the gateway's own code, so the tests check the listener against the protocol."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from types import TracebackType

from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.parser import parse_message

START, END = b"\x0b", b"\x1c\x0d"


class MllpClient:
    """One connection, several messages, each answered before the next (as senders do)."""

    def __init__(self, host: str, port: int, tls: ssl.SSLContext | None = None) -> None:
        self.host, self.port, self.tls = host, port, tls
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def __aenter__(self) -> MllpClient:
        self._reader, self._writer = await asyncio.open_connection(
            self.host, self.port, ssl=self.tls
        )
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        assert self._writer is not None
        self._writer.close()
        with contextlib.suppress(ConnectionError, ssl.SSLError):
            await self._writer.wait_closed()

    async def send_bytes(self, payload: bytes, timeout: float = 20.0) -> bytes:
        assert self._reader is not None
        assert self._writer is not None
        self._writer.write(START + payload + END)
        await self._writer.drain()
        framed = await asyncio.wait_for(self._reader.readuntil(END), timeout)
        assert framed.startswith(START), framed[:20]
        return framed[len(START) : -len(END)]

    async def send(self, message: str) -> Ack:
        return Ack((await self.send_bytes(message.encode())).decode())


class Ack:
    """An ACK read with hl7apy: the fields a sender looks at."""

    def __init__(self, text: str) -> None:
        self.text = text
        message = parse_message(text, validation_level=VALIDATION_LEVEL.TOLERANT, find_groups=False)
        msh = message.msh
        self.version = msh.msh_12.to_er7()
        self.parties = tuple(f.to_er7() for f in (msh.msh_3, msh.msh_4, msh.msh_5, msh.msh_6))
        self.message_type = msh.msh_9.to_er7()
        self.code = message.msa.msa_1.to_er7()
        self.control_id = message.msa.msa_2.to_er7()
        self.reason = message.msa.msa_3.to_er7()
        errors = list(message.err)
        self.error_location = self.error_code = self.error_text = ""
        if errors and self.version in ("2.3", "2.3.1", "2.4"):
            self.error_code = errors[0].err_1.to_er7()  # ERR-1 alone before 2.5
        elif errors:
            self.error_location = errors[0].err_2.to_er7()
            self.error_code = errors[0].err_3.to_er7()
            self.error_text = errors[0].err_8.to_er7()

    def __repr__(self) -> str:
        return f"Ack({self.text!r})"
