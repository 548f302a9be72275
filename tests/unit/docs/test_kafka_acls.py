"""deploy/kafka/setup-acls.sh grants each principal what its consumers really subscribe to.

The script runs with DRY_RUN=1 (it prints the kafka-*.sh commands instead of running them);
its ACLs are compared with the subscriptions the services, the desk and the provider adapter
run with, and its users with the ones deploy/compose.yaml logs in as.
"""

from __future__ import annotations

import itertools
import os
import shlex
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest
import yaml  # type: ignore[import-untyped]  # no types-PyYAML in the workspace

from cerniera.cli.contract import subscriptions
from cerniera.provider_adapter.adapter import default_group_id
from cerniera.provider_adapter.adapter import subscribes as adapter_subscribes
from cerniera.shared.ambiti import provider_ids
from cerniera.shared.contract import Topics

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
SCRIPT = DEPLOY / "kafka" / "setup-acls.sh"
SERVICES = ("intake", "activation", "monitoring", "billing", "gateway", "desk")
TOPICS = Topics()
PROVIDERS = provider_ids()

Grants = dict[tuple[str, str], set[str]]  # (user, operation) -> topics or "group:<id>"


def dry_run(**env: str) -> tuple[list[list[str]], Grants]:
    done = subprocess.run(
        ["bash", str(SCRIPT)],
        env={
            **os.environ,
            "DRY_RUN": "1",
            "PROVIDERS": " ".join(PROVIDERS),
            "PORTAL_PROVIDERS": "",  # the default: every provider
            **env,
        },
        capture_output=True,
        text=True,
        check=True,
    )
    commands = [shlex.split(line) for line in done.stdout.splitlines() if "kafka-" in line]
    grants: Grants = defaultdict(set)
    for argv in commands:
        if not argv[0].endswith("kafka-acls.sh"):
            continue
        user = argv[argv.index("--allow-principal") + 1].removeprefix("User:")
        operation = argv[argv.index("--operation") + 1]
        for flag, value in itertools.pairwise(argv):
            if flag == "--topic":
                grants[user, operation].add(value)
            elif flag == "--group":
                grants[user, operation].add(f"group:{value}")
    return commands, grants


COMMANDS, GRANTS = dry_run()


def topics_of(user: str, operation: str, grants: Grants = GRANTS) -> set[str]:
    return {t for t in grants[user, operation] if not t.startswith("group:")}


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_reads_exactly_what_it_subscribes_to(service: str) -> None:
    user = f"cerniera-{service}"
    subscribed = set(subscriptions()[service](TOPICS))
    assert topics_of(user, "Read") == subscribed
    assert f"group:{service}" in GRANTS[user, "Read"]
    # and may dead-letter every record it reads
    assert {Topics.dlq(t) for t in subscribed} <= topics_of(user, "Write")


def test_activation_writes_each_provider_s_request_topic_and_nothing_of_theirs_else() -> None:
    writes = topics_of("cerniera-activation", "Write")
    assert {TOPICS.provider_requests(p) for p in PROVIDERS} <= writes
    assert not {TOPICS.provider_reports(p) for p in PROVIDERS} & writes


def test_the_desk_reads_every_topic_and_writes_only_the_providers_reports() -> None:
    """The portal publishes a provider's answers and deliveries: by default for every
    provider; besides those, only dead letters."""
    assert topics_of("cerniera-desk", "Read") == set(TOPICS.all(PROVIDERS))
    reports = {TOPICS.provider_reports(p) for p in PROVIDERS}
    dead_letters = {Topics.dlq(t) for t in TOPICS.all(PROVIDERS)}
    assert topics_of("cerniera-desk", "Write") == reports | dead_letters
    assert {op for (u, op) in GRANTS if u == "cerniera-desk"} == {"Read", "Write"}


@pytest.mark.parametrize("portal", [PROVIDERS[:1], PROVIDERS[1:3], []])
def test_portal_providers_restricts_the_desk_s_writes(portal: list[str]) -> None:
    _, grants = dry_run(PORTAL_PROVIDERS=" ".join(portal) or "none")
    writes = topics_of("cerniera-desk", "Write", grants)
    assert {t for t in writes if not t.endswith(".dlq")} == {
        TOPICS.provider_reports(p) for p in portal
    }
    # What the desk reads, and the providers' own users, do not change.
    assert topics_of("cerniera-desk", "Read", grants) == set(TOPICS.all(PROVIDERS))
    for p in PROVIDERS:
        assert grants[f"provider-{p}", "Write"] == {TOPICS.provider_reports(p)}


def test_a_portal_provider_must_be_a_registered_one() -> None:
    done = subprocess.run(
        ["bash", str(SCRIPT)],
        env={**os.environ, "DRY_RUN": "1", "PROVIDERS": PROVIDERS[0], "PORTAL_PROVIDERS": "x"},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert "PORTAL_PROVIDERS: 'x'" in done.stderr
    assert "kafka-acls.sh" not in done.stdout


def test_every_kafka_user_of_compose_gets_its_password_and_its_acls() -> None:
    """kafka-setup creates each user with the password the container logs in with."""
    services = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]
    setup = services["kafka-setup"]["environment"]
    users = {
        env["KAFKA_SASL_USERNAME"]: env["KAFKA_SASL_PASSWORD"]
        for env in (s.get("environment", {}) for s in services.values())
        if "KAFKA_SASL_USERNAME" in env
    }
    assert {f"cerniera-{s}" for s in SERVICES} <= set(users)
    for user, password in users.items():
        variable = "PASSWORD_" + user.upper().replace("-", "_").replace(".", "_")
        assert setup[variable] == password, user
        assert (user, "Read") in GRANTS, user


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_provider_reads_only_its_requests_and_writes_only_its_reports(provider: str) -> None:
    user = f"provider-{provider}"
    assert topics_of(user, "Read") == set(adapter_subscribes(TOPICS, [provider]))
    assert GRANTS[user, "Read"] - topics_of(user, "Read") == {
        f"group:{default_group_id([provider])}"
    }
    assert GRANTS[user, "Write"] == {TOPICS.provider_reports(provider)}
    assert {op for (u, op) in GRANTS if u == user} == {"Read", "Write"}


def test_every_acl_names_its_topic_literally() -> None:
    acls = [argv for argv in COMMANDS if argv[0].endswith("kafka-acls.sh")]
    for argv in acls:
        pattern = argv[argv.index("--resource-pattern-type") + 1]
        assert pattern == "literal" or argv[argv.index("--group") + 1] == "cerniera-operator"


def test_the_topics_are_the_contract_s_each_with_a_dead_letter_topic_as_long_lived() -> None:
    created = {
        argv[argv.index("--topic") + 1]: argv[argv.index("--config") + 1]
        for argv in COMMANDS
        if argv[0].endswith("kafka-topics.sh")
    }
    assert set(created) == set(TOPICS.all_with_dlq(PROVIDERS))
    assert len(set(created.values())) == 1  # one retention.ms for every topic and its .dlq
