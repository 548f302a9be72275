"""The KAFKA_* security settings reach every aiokafka client: the FastStream consumers, the
outbox producer and the admin client that provisions topics."""

from __future__ import annotations

import functools
import ssl

import certifi
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from pydantic import ValidationError

from cerniera.shared.messaging.kafka import make_broker, make_producer
from cerniera.shared.settings import KafkaSettings

SCRAM = {
    "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
    "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
    "KAFKA_SASL_USERNAME": "cerniera-intake",
    "KAFKA_SASL_PASSWORD": "s3cret",
    "KAFKA_SSL_CAFILE": certifi.where(),  # any PEM bundle: the context must load it
}


@pytest.fixture
def scram(monkeypatch: pytest.MonkeyPatch) -> KafkaSettings:
    for name, value in SCRAM.items():
        monkeypatch.setenv(name, value)
    return KafkaSettings()


def assert_scram_over_tls(params: dict[str, object]) -> None:
    assert params["security_protocol"] == "SASL_SSL"
    assert params["sasl_mechanism"] == "SCRAM-SHA-512"
    assert params["sasl_plain_username"] == "cerniera-intake"
    assert params["sasl_plain_password"] == "s3cret"
    context = params["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname


def test_client_params_carry_sasl_and_a_verifying_tls_context(scram: KafkaSettings) -> None:
    assert_scram_over_tls(scram.client_params())
    assert_scram_over_tls(scram.producer_params())


async def test_consumers_producer_and_admin_are_built_with_them(scram: KafkaSettings) -> None:
    # The consumers FastStream builds for the subscribers (and its own producer).
    broker = make_broker(scram, client_id="intake")
    builder = broker.config.broker_config.builder
    assert isinstance(builder, functools.partial)
    assert_scram_over_tls(builder.keywords)
    assert_scram_over_tls(broker._connection_kwargs)

    producer = make_producer(scram, client_id="intake-outbox")
    admin = AIOKafkaAdminClient(**scram.client_params())  # as provision_topics builds it
    try:
        for client in (producer.client, admin._client):
            assert client._security_protocol == "SASL_SSL"
            assert client._sasl_mechanism == "SCRAM-SHA-512"
            assert client._sasl_plain_username == "cerniera-intake"
            assert isinstance(client._ssl_context, ssl.SSLContext)
    finally:
        await producer.stop()  # never started: nothing was connected
        await admin.close()


def test_plaintext_adds_no_security_options() -> None:
    params = KafkaSettings(security_protocol="PLAINTEXT").client_params()
    assert params["security_protocol"] == "PLAINTEXT"
    assert "ssl_context" not in params
    assert "sasl_mechanism" not in params


def test_sasl_without_credentials_is_refused_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.delenv("KAFKA_SASL_USERNAME", raising=False)
    monkeypatch.delenv("KAFKA_SASL_PASSWORD", raising=False)
    with pytest.raises(ValidationError, match="KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"):
        KafkaSettings()
