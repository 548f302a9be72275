"""The gateway's settings from the environment, and MLLP framing on an in-memory stream."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import ValidationError

from cerniera.gateway.config import GatewaySettings
from cerniera.gateway.mllp import frame, read_frame


def test_defaults_are_the_customary_ports(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MLLP_PORT", "MLLP_HOST", "GATEWAY_HOSPITALS"):
        monkeypatch.delenv(name, raising=False)
    settings = GatewaySettings()
    assert (settings.mllp_port, settings.gateway_hospitals) == (2575, {})


@pytest.mark.parametrize(
    "value",
    [
        "ASST_VIMERCATE=asst-vimercate, HSG=irccs-san-gerardo",
        '{"ASST_VIMERCATE": "asst-vimercate", "HSG": "irccs-san-gerardo"}',
    ],
)
def test_hospitals_map_as_pairs_or_json(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("GATEWAY_HOSPITALS", value)
    monkeypatch.setenv("MLLP_PORT", "12575")
    settings = GatewaySettings()
    assert settings.gateway_hospitals == {
        "ASST_VIMERCATE": "asst-vimercate",
        "HSG": "irccs-san-gerardo",
    }
    assert settings.mllp_port == 12575


@pytest.mark.parametrize("value", ["ASST_VIMERCATE", "X=Not An Id"])
def test_a_wrong_hospitals_map_fails_at_start(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("GATEWAY_HOSPITALS", value)
    with pytest.raises(ValidationError, match="gateway_hospitals"):
        GatewaySettings()


def stream(data: bytes) -> asyncio.StreamReader:
    reader = asyncio.StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    return reader


async def test_frames_are_read_one_at_a_time_skipping_noise_between_them() -> None:
    reader = stream(b"\r\n" + frame(b"MSH|1\r") + b"\n" + frame(b"MSH|2\r"))
    assert await read_frame(reader) == b"MSH|1\r"
    assert await read_frame(reader) == b"MSH|2\r"
    assert await read_frame(reader) is None


async def test_a_frame_cut_short_is_the_end_of_the_connection() -> None:
    assert await read_frame(stream(b"\x0bMSH|1\r")) is None


def test_frame_is_start_block_message_end_block() -> None:
    assert frame(b"MSH") == b"\x0bMSH\x1c\x0d"
