"""The gateway's settings from the environment, and MLLP framing on an in-memory stream."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import ValidationError

from cerniera.gateway.config import GatewaySettings
from cerniera.gateway.mllp import frame, read_frame

SETTINGS = (
    "MLLP_PORT",
    "MLLP_HOST",
    "GATEWAY_HOSPITALS",
    "GATEWAY_CLIENT_CERTS",
    "MLLP_TLS_CERT",
    "MLLP_TLS_KEY",
    "MLLP_TLS_CLIENT_CA",
    "MLLP_ALLOW_PLAINTEXT",
)


def test_defaults_are_the_customary_ports_and_no_plain_mllp(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)
    settings = GatewaySettings()
    assert (settings.mllp_port, settings.gateway_hospitals) == (2575, {})
    assert (settings.mllp_tls, settings.mllp_allow_plaintext) == (False, False)
    assert (settings.mllp_max_message_bytes, settings.fhir_max_body_bytes) == (1 << 20, 1 << 20)
    assert (settings.mllp_max_connections, settings.mllp_idle_timeout_s) == (200, 60.0)


def test_tls_settings_and_client_certificates_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MLLP_TLS_CERT", "/etc/cerniera/gateway.pem")
    monkeypatch.setenv("MLLP_TLS_KEY", "/etc/cerniera/gateway.key")
    monkeypatch.setenv("MLLP_TLS_CLIENT_CA", "/etc/cerniera/hospitals-ca.pem")
    monkeypatch.setenv("GATEWAY_HOSPITALS", "ASST_VIMERCATE=asst-vimercate")
    monkeypatch.setenv("GATEWAY_CLIENT_CERTS", "sio.asst-vimercate.it=asst-vimercate")
    settings = GatewaySettings()
    assert settings.mllp_tls
    assert settings.gateway_client_certs == {"sio.asst-vimercate.it": "asst-vimercate"}


def test_tls_needs_certificate_key_and_client_ca_together(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MLLP_TLS_CERT", "/etc/cerniera/gateway.pem")
    with pytest.raises(ValidationError, match="MLLP_TLS_CLIENT_CA"):
        GatewaySettings()


def test_a_certificate_of_a_hospital_not_configured_fails_at_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GATEWAY_HOSPITALS", "ASST_VIMERCATE=asst-vimercate")
    monkeypatch.setenv("GATEWAY_CLIENT_CERTS", '{"sio.hsg.it": "irccs-san-gerardo"}')
    with pytest.raises(ValidationError, match="irccs-san-gerardo"):
        GatewaySettings()


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
