"""``cerniera bench --profile``: the CPU sampler a service runs under, and how its folded
stacks are condensed into the bench's table."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from cerniera.cli.sampler import argv, read, summary

STARTUP = "<frozen importlib._bootstrap>:_find_and_load;cerniera/intake/tables.py:<module>"
HANDLER = "cerniera/shared/messaging/consumer.py:_apply;cerniera/intake/cases.py:announce"


def test_a_profile_leaves_start_up_out_and_shares_the_rest_among_the_libraries() -> None:
    lines = [
        f"{STARTUP} 50",
        f"{HANDLER};cerniera/intake/store.py:save;sqlalchemy/sql/compiler.py:process 6",
        # SQLAlchemy waiting on asyncpg counts for asyncpg.
        f"{HANDLER};sqlalchemy/engine/base.py:execute;<greenlet>;asyncpg/protocol.py:bind 2",
        f"{HANDLER};pydantic/main.py:model_validate 1",
        "aiokafka/consumer/fetcher.py:_fetch 1",
    ]
    sql = ["1648\tSELECT intake.cases.case_id FROM intake.cases", "6\tINSERT INTO intake.inbox"]
    profile = summary(lines, sql)
    assert profile.startup_s == pytest.approx(0.1)
    assert profile.cpu_s == pytest.approx(0.02)  # 10 samples of 2 ms
    assert profile.shares == pytest.approx(
        {"SQLAlchemy": 0.6, "asyncpg": 0.2, "pydantic": 0.1, "aiokafka": 0.1}
    )
    # Our own functions by inclusive share, the consumer's layers left out.
    assert profile.functions == [("intake/cases.py:announce", 0.9), ("intake/store.py:save", 0.6)]
    assert profile.statements == 1654


def test_a_module_run_under_the_sampler_leaves_its_stacks_at_exit(tmp_path: Path) -> None:
    (tmp_path / "busy.py").write_text(
        textwrap.dedent(
            """
            import time

            def spin():
                end = time.process_time() + 0.3
                while time.process_time() < end:
                    sum(range(1000))

            spin()
            """
        )
    )
    out = tmp_path / "busy.stacks"
    command = argv("busy", out)
    assert command[-1] == "run"  # a service's own command, ``run``
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}
    subprocess.run(command, env=env, check=True, timeout=60)
    profile = read(out)
    assert profile is not None
    assert profile.cpu_s > 0.1
    assert "busy.py:spin" in out.read_text()
