"""Settings every service reads from the environment (12-factor), with safe production defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class KafkaSettings(BaseSettings):
    """How to reach Kafka. Environment variables are prefixed with ``KAFKA_``."""

    model_config = SettingsConfigDict(env_prefix="KAFKA_", extra="ignore")

    bootstrap_servers: str = "127.0.0.1:9092"
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = "PLAIN"
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_cafile: Path | None = None
    ssl_certfile: Path | None = None
    ssl_keyfile: Path | None = None
    # Idempotence needs InitProducerId, which Apache Kafka has and Tansu lacks: on by default,
    # switched off only for brokers without it (the dev/test broker).
    enable_idempotence: bool = True
    topic_prefix: str = "dp."
    topic_partitions: int = 6
    topic_replication_factor: int = 1
    # Short sessions make group joins fast on the dev broker (it holds each JoinGroup for half
    # the session timeout); on Apache Kafka the defaults below are ordinary values.
    session_timeout_ms: int = 10_000
    heartbeat_interval_ms: int = 3_000
    # Records handled per database transaction: batching is what makes the pipeline fast.
    max_batch_records: int = 500
    # How long the broker may hold a fetch that finds nothing new. Apache Kafka answers as
    # soon as a record arrives, so its default (500) costs no latency there; the dev broker
    # holds every fetch for the whole wait, one hop costing up to that much (broker notes):
    # ``up``, the demo and the bench set 20 ms on it.
    fetch_max_wait_ms: int = 500

    @model_validator(mode="after")
    def _sasl_credentials(self) -> KafkaSettings:
        # Said at start-up, not as an authentication failure on the first connection.
        if self.security_protocol.startswith("SASL") and not (
            self.sasl_username and self.sasl_password
        ):
            raise ValueError(
                f"KAFKA_SECURITY_PROTOCOL={self.security_protocol} needs "
                "KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"
            )
        return self

    def client_params(self) -> dict[str, Any]:
        """Connection and security options shared by aiokafka producers, consumers and admins."""
        params: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap_servers,
            "security_protocol": self.security_protocol,
        }
        if self.security_protocol in ("SSL", "SASL_SSL"):
            from aiokafka.helpers import create_ssl_context

            params["ssl_context"] = create_ssl_context(
                cafile=str(self.ssl_cafile) if self.ssl_cafile else None,
                certfile=str(self.ssl_certfile) if self.ssl_certfile else None,
                keyfile=str(self.ssl_keyfile) if self.ssl_keyfile else None,
            )
        if self.security_protocol.startswith("SASL"):
            params["sasl_mechanism"] = self.sasl_mechanism
            params["sasl_plain_username"] = self.sasl_username
            params["sasl_plain_password"] = (
                self.sasl_password.get_secret_value() if self.sasl_password else None
            )
        return params

    def producer_params(self) -> dict[str, Any]:
        """A producer that never loses an acknowledged record (acks=all) and, where the broker
        supports it, never duplicates one on retry (idempotence)."""
        return {
            **self.client_params(),
            "acks": "all",
            "enable_idempotence": self.enable_idempotence,
            "linger_ms": 2,
            "max_batch_size": 256 * 1024,
        }

    def consumer_params(self) -> dict[str, Any]:
        return {
            "session_timeout_ms": self.session_timeout_ms,
            "heartbeat_interval_ms": self.heartbeat_interval_ms,
            "fetch_max_wait_ms": self.fetch_max_wait_ms,
            "auto_offset_reset": "earliest",
        }


class DatabaseSettings(BaseSettings):
    """Where the service keeps its own schema. ``DATABASE_URL`` (postgresql://...)."""

    model_config = SettingsConfigDict(extra="ignore")

    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
    database_pool_size: int = 5

    @field_validator("database_url")
    @classmethod
    def _asyncpg_driver(cls, url: str) -> str:
        return async_database_url(url)


def async_database_url(url: str) -> str:
    """Accept the usual ``postgres://`` / ``postgresql://`` forms and select the asyncpg driver."""
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):
            return "postgresql+asyncpg://" + url[len(plain) :]
    return url
