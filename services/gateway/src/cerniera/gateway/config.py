"""The gateway's settings, from the environment: where it listens, who may speak on its doors
(which hospital each sending facility and each client certificate is), and the doors' limits."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Self

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from cerniera.shared.contract import HospitalId

MLLP_PORT = 2575  # the customary HL7 v2 port
HTTP_PORT = 8004
MIB = 1 << 20


class GatewaySettings(BaseSettings):
    """Every field is read from the variable of its name in capitals (``MLLP_PORT``, ...).

    ``GATEWAY_HOSPITALS`` maps a sender's code (HL7 MSH-4, FHIR Organization identifier or
    MessageHeader.source.name) to the project's hospital id, as ``CODE=hospital-id`` pairs
    separated by commas, or as a JSON object. On the FHIR door, codes not listed become the id
    themselves, lower-cased and hyphenated (``ASST_VIMERCATE`` → ``asst-vimercate``); on the
    MLLP door only the listed ones are accepted.

    MLLP is TLS with client certificates when ``MLLP_TLS_CERT``, ``MLLP_TLS_KEY`` and
    ``MLLP_TLS_CLIENT_CA`` are set (all three or none); ``GATEWAY_CLIENT_CERTS`` maps a client
    certificate's name (its subject CN, or a DNS/URI subject alternative name) to the hospital
    it speaks for, in the same format. Without TLS, MLLP listens in plain TCP only when
    ``MLLP_ALLOW_PLAINTEXT=true`` (a closed local network); otherwise the MLLP door stays shut.
    """

    model_config = SettingsConfigDict(extra="ignore")

    mllp_host: str = "0.0.0.0"
    mllp_port: int = MLLP_PORT
    gateway_hospitals: Annotated[dict[str, HospitalId], NoDecode] = {}

    mllp_tls_cert: Path | None = None
    """The gateway's certificate (PEM, the chain after it if any)."""
    mllp_tls_key: Path | None = None
    """Its private key (PEM)."""
    mllp_tls_client_ca: Path | None = None
    """The CA (PEM bundle) that signs the hospitals' client certificates."""
    gateway_client_certs: Annotated[dict[str, HospitalId], NoDecode] = {}
    mllp_allow_plaintext: bool = False

    mllp_max_message_bytes: int = Field(default=MIB, gt=0)
    """A bigger message is answered AR and its connection closed (an ADT message is a few kB)."""
    mllp_max_connections: int = Field(default=200, gt=0)
    """Connections beyond it are closed as soon as they are accepted."""
    mllp_idle_timeout_s: float = Field(default=60.0, gt=0)
    """A connection that sends no complete message for this long is closed; the TLS handshake
    has as long."""
    fhir_max_body_bytes: int = Field(default=MIB, gt=0)
    """A bigger FHIR request body is refused with 413, without being read whole."""

    @property
    def mllp_tls(self) -> bool:
        return self.mllp_tls_cert is not None

    @field_validator("gateway_hospitals", "gateway_client_certs", mode="before")
    @classmethod
    def _pairs(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        text = value.strip()
        if text.startswith("{"):
            return json.loads(text)
        pairs: dict[str, str] = {}
        for item in filter(None, (part.strip() for part in text.split(","))):
            code, sep, hospital_id = item.partition("=")
            if not sep or not code.strip():
                raise ValueError(f"expected NAME=hospital-id, got {item!r}")
            pairs[code.strip()] = hospital_id.strip()
        return pairs

    @model_validator(mode="after")
    def _tls_whole(self) -> Self:
        given = [self.mllp_tls_cert, self.mllp_tls_key, self.mllp_tls_client_ca]
        if any(given) and not all(given):
            raise ValueError("MLLP TLS needs MLLP_TLS_CERT, MLLP_TLS_KEY and MLLP_TLS_CLIENT_CA")
        unknown = set(self.gateway_client_certs.values()) - set(self.gateway_hospitals.values())
        if unknown:
            # Such a certificate could never send a message that is accepted: say it now.
            raise ValueError(
                f"GATEWAY_CLIENT_CERTS names hospitals that GATEWAY_HOSPITALS does not: "
                f"{', '.join(sorted(unknown))}"
            )
        return self
