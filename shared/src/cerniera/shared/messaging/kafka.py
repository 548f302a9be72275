"""Broker, producer and admin clients built from settings, and explicit topic provisioning."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import UnknownError, UnsupportedVersionError
from faststream.kafka import KafkaBroker
from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512

from cerniera.shared.contract import Topics
from cerniera.shared.settings import KafkaSettings

log = structlog.get_logger(__name__)

TOPIC_EXISTS = 36  # TopicAlreadyExistsError: returned inside the response, not raised
# The principal may not create it: with ACLs the operator provisions the topics
# (deploy/kafka/setup-acls.sh), and a topic a service may not even see looks missing to it.
TOPIC_AUTHORIZATION_FAILED = 29


def make_broker(
    settings: KafkaSettings, *, client_id: str, middlewares: Sequence[Any] = ()
) -> KafkaBroker:
    """The FastStream broker that runs a service's subscribers."""
    return KafkaBroker(
        settings.bootstrap_servers,
        client_id=client_id,
        security=_security(settings),
        acks="all",
        enable_idempotence=settings.enable_idempotence,
        middlewares=middlewares,
        # Fits inside Kubernetes' default 30 s termination grace period.
        graceful_timeout=20.0,
        # Through the root logger (so in our format); one line per batch only at DEBUG, as one
        # per record at INFO would drown the logs at thousands of records a second.
        logger=logging.getLogger("faststream.cerniera"),
        log_level=logging.DEBUG,
    )


def make_producer(settings: KafkaSettings, *, client_id: str) -> AIOKafkaProducer:
    """The producer behind the outbox relay and the dead-letter publisher."""
    return AIOKafkaProducer(client_id=client_id, **settings.producer_params())


class BrokerConfigError(RuntimeError):
    """The broker cannot do what the settings ask: said in one line, with what to set."""


async def start_producer(producer: AIOKafkaProducer, settings: KafkaSettings) -> None:
    """Start ``producer``; a broker without idempotent producers (InitProducerId refused) is
    told apart from any other failure, with the setting that fixes it."""
    try:
        await producer.start()
    except (UnknownError, UnsupportedVersionError) as error:
        await producer.stop()
        if not settings.enable_idempotence:
            raise
        raise BrokerConfigError(
            f"the broker at {settings.bootstrap_servers} refuses idempotent producers "
            f"({type(error).__name__} on InitProducerId): set KAFKA_ENABLE_IDEMPOTENCE=false "
            "for this broker (consumers deduplicate anyway), or use Apache Kafka"
        ) from error


def _security(settings: KafkaSettings) -> BaseSecurity | None:
    ssl_context = settings.client_params().get("ssl_context")
    use_ssl = settings.security_protocol in ("SSL", "SASL_SSL")
    if not settings.security_protocol.startswith("SASL"):
        return BaseSecurity(ssl_context=ssl_context, use_ssl=use_ssl) if use_ssl else None
    password = settings.sasl_password.get_secret_value() if settings.sasl_password else ""
    sasl = {
        "PLAIN": SASLPlaintext,
        "SCRAM-SHA-256": SASLScram256,
        "SCRAM-SHA-512": SASLScram512,
    }[settings.sasl_mechanism]
    return sasl(settings.sasl_username or "", password, ssl_context=ssl_context, use_ssl=use_ssl)


async def provision_topics(settings: KafkaSettings, topics: Iterable[str]) -> list[str]:
    """Create the topics and their dead-letter topics that do not exist yet; return those
    created.

    Never rely on auto-creation: auto-created topics get the broker's defaults (on the dev
    broker always 4 partitions), and producing to an unknown topic may be silently accepted.
    """
    wanted = sorted({name for topic in topics for name in (topic, Topics.dlq(topic))})
    admin = AIOKafkaAdminClient(**settings.client_params())
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [name for name in wanted if name not in existing]
        if not missing:
            return []
        response = await admin.create_topics(
            [
                NewTopic(
                    name=name,
                    num_partitions=settings.topic_partitions,
                    replication_factor=settings.topic_replication_factor,
                )
                for name in missing
            ]
        )
        refused: list[str] = []
        for name, code, *_ in getattr(response, "topic_errors", []):
            if code == TOPIC_AUTHORIZATION_FAILED:
                refused.append(name)
            elif code not in (0, TOPIC_EXISTS):
                raise RuntimeError(f"cannot create topic {name}: Kafka error code {code}")
        if refused:
            log.info("topics.not_authorized", topics=refused)
        created = [name for name in missing if name not in refused]
        if created:
            log.info("topics.created", topics=created, partitions=settings.topic_partitions)
        return created
    finally:
        await admin.close()
