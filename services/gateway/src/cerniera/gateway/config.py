"""The gateway's settings, from the environment: where it listens for HL7 v2, and which hospital
each sending facility is."""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from cerniera.shared.contract import HospitalId

MLLP_PORT = 2575  # the customary HL7 v2 port
HTTP_PORT = 8004


class GatewaySettings(BaseSettings):
    """``MLLP_HOST`` / ``MLLP_PORT`` (0 = any free port) and ``GATEWAY_HOSPITALS``.

    ``GATEWAY_HOSPITALS`` maps a sender's code (HL7 MSH-4, FHIR Organization identifier or
    MessageHeader.source.name) to the project's hospital id, as ``CODE=hospital-id`` pairs
    separated by commas, or as a JSON object. Codes not listed become the id themselves,
    lower-cased and hyphenated (``ASST_VIMERCATE`` → ``asst-vimercate``).
    """

    model_config = SettingsConfigDict(extra="ignore")

    mllp_host: str = "0.0.0.0"
    mllp_port: int = MLLP_PORT
    gateway_hospitals: Annotated[dict[str, HospitalId], NoDecode] = {}

    @field_validator("gateway_hospitals", mode="before")
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
                raise ValueError(f"GATEWAY_HOSPITALS: expected CODE=hospital-id, got {item!r}")
            pairs[code.strip()] = hospital_id.strip()
        return pairs
