"""The processes of the chaos run: the four services (activation possibly twice, in one
consumer group) and the provider adapter, each its own process with its own log, killed with
SIGKILL and started again on demand, and killed by the kernel if the run dies."""

from __future__ import annotations

import contextlib
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from cerniera.cli.devstack import pdeathsig_preexec
from cerniera.cli.up import SERVICES

KILLABLE = ("intake", "activation", "monitoring", "billing")


@dataclass
class Member:
    name: str
    """``intake``, ``activation-2``, ``providers``..."""
    service: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0
    kills: int = 0
    exits: list[int] = field(default_factory=list)
    """Exit codes of the times it stopped by itself."""

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        """Spawn it (from the main thread, so that it dies with us), unless it runs."""
        if self.alive:
            return
        with self.log.open("ab") as log:
            log.write(f"\n===== start {self.starts + 1} at {time.strftime('%X')} =====\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                self.argv,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=pdeathsig_preexec(signal.SIGKILL),
            )
        self.starts += 1

    def kill(self) -> None:
        """SIGKILL: no shutdown, no last commit, no last flush. Down until ``start``."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None
        self.kills += 1

    def exited_by_itself(self) -> int | None:
        """The exit code if it stopped without being killed (recorded once)."""
        if self.process is None or self.process.poll() is None:
            return None
        code = self.process.returncode
        self.exits.append(code)
        self.process = None
        return code


class Fleet:
    def __init__(self, base_env: dict[str, str], logs: Path, *, activation_replicas: int = 1):
        self.members: list[Member] = []
        for service in KILLABLE:
            replicas = activation_replicas if service == "activation" else 1
            for n in range(1, replicas + 1):
                name = service if replicas == 1 else f"{service}-{n}"
                env = {**base_env, "HTTP_PORT": "0"}
                self.members.append(
                    Member(name, service, SERVICES[service].argv(), env, logs / f"{name}.log")
                )

    def add(self, name: str, argv: list[str], env: dict[str, str], log: Path) -> Member:
        member = Member(name, name, argv, env, log)
        self.members.append(member)
        return member

    def member(self, name: str) -> Member:
        return next(m for m in self.members if m.name == name)

    @property
    def killable(self) -> list[Member]:
        return [m for m in self.members if m.service in KILLABLE]

    def pick(self, rng: random.Random) -> Member:
        """A random one of the four services (then a random replica of it)."""
        service = rng.choice(KILLABLE)
        return rng.choice([m for m in self.killable if m.service == service])

    def start_all(self) -> None:
        for member in self.members:
            member.start()

    def revive(self) -> list[tuple[Member, int]]:
        """Start again whatever stopped by itself; return who, with its exit code."""
        revived = []
        for member in self.members:
            code = member.exited_by_itself()
            if code is not None:
                member.start()
                revived.append((member, code))
        return revived

    def stop_all(self, grace: float = 20.0) -> None:
        running = [m.process for m in self.members if m.alive and m.process is not None]
        for process in running:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        for process in running:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            if process.poll() is None:
                process.kill()
                process.wait()


def adapter_argv(providers: list[str], seed: int) -> list[str]:
    """The reference adapter serving every provider: all accept, an hour after the request."""
    argv = [sys.executable, "-m", "cerniera.provider_adapter.main"]
    for provider in providers:
        argv += ["--provider", provider]
    return [
        *argv,
        "--decline-share",
        "0",
        "--silence-share",
        "0",
        "--answer-delay-hours",
        "1",
        "--seed",
        str(seed),
    ]
