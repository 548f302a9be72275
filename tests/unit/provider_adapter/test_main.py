"""The command line: options become the simulated policy; Kafka from the environment or from
the stack ``./cerniera up`` recorded."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from cerniera.provider_adapter.main import kafka_settings, parser, policy_from
from cerniera.provider_adapter.policy import DEFAULT_LEAD_TIME_DAYS, SimulatedPolicy
from cerniera.shared.contract import ServiceType


def test_options_become_the_simulated_policy() -> None:
    args = parser().parse_args(
        [
            "--provider",
            "coop-a",
            "--provider",
            "coop-b",
            "--decline-share",
            "0.2",
            "--silence-share",
            "0.05",
            "--answer-delay-hours",
            "4",
            "--seed",
            "1",
        ]
    )
    assert args.provider == ["coop-a", "coop-b"]
    assert policy_from(args) == SimulatedPolicy(
        decline_share=0.2,
        silence_share=0.05,
        answer_delay=timedelta(hours=4),
        lead_time_days=DEFAULT_LEAD_TIME_DAYS,
        seed=1,
    )
    one_day = parser().parse_args(["--provider", "a", "--lead-time-days", "1"])
    assert policy_from(one_day).lead_time_days == dict.fromkeys(ServiceType, 1)


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        ([], "the following arguments are required: --provider"),
        (["--provider", "a", "--decline-share", "1.5"], "1.5 is not a share between 0 and 1"),
    ],
)
def test_a_provider_is_required_and_shares_are_shares(
    argv: list[str], error: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        parser().parse_args(argv)
    assert exited.value.code == 2  # a usage error, said on stderr
    assert error in capsys.readouterr().err


def test_kafka_from_the_local_stack_unless_the_environment_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".cerniera").mkdir()
    (tmp_path / ".cerniera" / "stack.json").write_text(
        json.dumps(
            {
                "bootstrap_servers": "127.0.0.1:41234",
                "database_url": "postgresql://unused",
                "enable_idempotence": False,
                "topic_prefix": "dp.",
            }
        )
    )
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    local = kafka_settings()
    assert (local.bootstrap_servers, local.enable_idempotence) == ("127.0.0.1:41234", False)

    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka-1:9092")
    assert kafka_settings().bootstrap_servers == "kafka-1:9092"
