"""The desk's settings: where the owning services answer (every command goes there, with the
user's own token), how the browser reaches the desk, and how long a session lasts."""

from __future__ import annotations

import secrets

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class DeskSettings(BaseSettings):
    """``DESK_*`` environment variables."""

    model_config = SettingsConfigDict(env_prefix="DESK_", extra="ignore")

    intake_url: str = "http://127.0.0.1:8000"
    activation_url: str = "http://127.0.0.1:8001"
    monitoring_url: str = "http://127.0.0.1:8002"
    billing_url: str = "http://127.0.0.1:8003"
    public_url: str | None = None
    """The desk's address as the browser sees it (for the log-in redirect); default: the
    address the request came to."""
    client_id: str = "cerniera-desk"
    """The desk's OIDC client: public, authorization code with PKCE (S256)."""
    session_secret: str = Field(default_factory=lambda: secrets.token_urlsafe(32))
    """Signs the session cookie. Default: new at each start (every session ends with it);
    set it when several replicas serve the desk."""
    session_max_age_s: int = Field(default=8 * 3600, ge=60)
    """A session ends after this long whatever happens (a working day); it also ends when
    the access token expires."""
    secure_cookies: bool = False
    """Send the session cookie over HTTPS only: set it behind TLS (production)."""
    service_timeout_s: float = Field(default=10.0, gt=0)
