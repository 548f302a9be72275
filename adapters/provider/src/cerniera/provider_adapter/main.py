"""``cerniera-provider-adapter``: simulated providers (enti gestori) answering Cerniera.

Serves each ``--provider`` id with the simulated policy: accepts, declines or stays silent in
the given shares, answers after a delay in simulated hours, and reports deliveries for every
simulated day that passes. Kafka from KAFKA_* (or, when KAFKA_BOOTSTRAP_SERVERS is unset, the
stack that ``./cerniera up`` started), time from CERNIERA_CLOCK_*, logs from LOG_LEVEL and
LOG_FORMAT. Stops cleanly on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
from datetime import timedelta
from pathlib import Path

from cerniera.provider_adapter.adapter import ProviderAdapter, run_adapter
from cerniera.provider_adapter.policy import DEFAULT_LEAD_TIME_DAYS, SimulatedPolicy
from cerniera.shared.clock import Clock
from cerniera.shared.contract import ServiceType
from cerniera.shared.logging import configure_logging
from cerniera.shared.settings import KafkaSettings

STACK_FILE = Path(".cerniera") / "stack.json"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="cerniera-provider-adapter", description=__doc__)
    p.add_argument(
        "--provider",
        action="append",
        required=True,
        metavar="ID",
        help="a provider id to serve, as in the districts' document (repeatable)",
    )
    p.add_argument("--decline-share", type=_share, default=0.0, help="default 0")
    p.add_argument("--silence-share", type=_share, default=0.0, help="default 0")
    p.add_argument(
        "--answer-delay-hours", type=float, default=0.0, help="simulated hours; default 0"
    )
    p.add_argument(
        "--lead-time-days",
        type=int,
        default=None,
        help="working days from request to start, every service (default: SAD 2, meals 2, "
        "teleassistance 3)",
    )
    p.add_argument("--evening-share", type=_share, default=0.1, help="SAD visits; default 0.1")
    p.add_argument("--seed", type=int, default=0, help="same seed, same answers; default 0")
    p.add_argument("--group-id", default=None, help="default: derived from the provider ids")
    p.add_argument("--tick-seconds", type=float, default=0.5, help="real seconds; default 0.5")
    return p


def policy_from(args: argparse.Namespace) -> SimulatedPolicy:
    lead: dict[ServiceType, int] = dict(DEFAULT_LEAD_TIME_DAYS)
    if args.lead_time_days is not None:
        lead = dict.fromkeys(ServiceType, args.lead_time_days)
    return SimulatedPolicy(
        decline_share=args.decline_share,
        silence_share=args.silence_share,
        answer_delay=timedelta(hours=args.answer_delay_hours),
        lead_time_days=lead,
        evening_share=args.evening_share,
        seed=args.seed,
    )


def kafka_settings() -> KafkaSettings:
    """KAFKA_* from the environment; without a bootstrap address, the local ``cerniera up``
    stack if one is running (it records its broker in .cerniera/stack.json)."""
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        return KafkaSettings()
    for folder in (Path.cwd(), *Path.cwd().parents):
        path = folder / STACK_FILE
        if path.is_file():
            stack = json.loads(path.read_text())
            return KafkaSettings(
                bootstrap_servers=stack["bootstrap_servers"],
                enable_idempotence=stack["enable_idempotence"],
                topic_prefix=stack["topic_prefix"],
            )
    return KafkaSettings()


async def _serve(args: argparse.Namespace) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    adapter = ProviderAdapter(
        args.provider,
        policy_from(args),
        kafka=kafka_settings(),
        clock=Clock.from_settings(),
        group_id=args.group_id,
        tick_s=args.tick_seconds,
    )
    await run_adapter(adapter, stop)


def cli(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    configure_logging()
    try:
        policy_from(args)  # reject impossible shares before connecting to anything
    except ValueError as error:
        parser().error(str(error))
    asyncio.run(_serve(args))


def _share(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text} is not a share between 0 and 1")
    return value


if __name__ == "__main__":
    cli()
