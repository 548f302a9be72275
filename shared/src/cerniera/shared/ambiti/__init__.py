"""The districts' configuration document (TOML).

An Ambito territoriale sociale (district: several municipalities sharing social services,
budget and providers) sets its own rules. One document describes every district of a
deployment; each service validates only the sections it uses. ``[defaults]`` applies to every
district and a district's own tables override it, key by key.
"""

from __future__ import annotations

import os
import tomllib
from importlib.resources import files
from pathlib import Path
from typing import Any

ENV_VAR = "CERNIERA_AMBITI"


def load_document(path: str | Path | None = None) -> dict[str, Any]:
    """Read the document from ``path``, else ``$CERNIERA_AMBITI``, else the shipped example
    (the Desio and Magentino districts)."""
    chosen = path or os.environ.get(ENV_VAR)
    if chosen:
        text = Path(chosen).read_text(encoding="utf-8")
    else:
        text = files(__package__).joinpath("example.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def district_tables(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each district's settings with ``[defaults]`` merged under them."""
    defaults = document.get("defaults", {})
    return {
        ambito_id: _merge(defaults, own) for ambito_id, own in document.get("ambiti", {}).items()
    }


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def provider_ids(document: dict[str, Any] | None = None) -> list[str]:
    """Every provider (ente gestore) the districts register, each once, in document order:
    whose per-provider topics exist (see ``contract.Topics.all``)."""
    document = document if document is not None else load_document()
    return list(
        dict.fromkeys(
            provider["id"]
            for district in district_tables(document).values()
            for provider in district.get("providers", [])
        )
    )
