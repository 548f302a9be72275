"""The ``cerniera`` command."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from cerniera.cli import events, stack
from cerniera.cli.up import SERVICES, run_up
from cerniera.shared.logging import configure_logging

app = typer.Typer(
    help="Cerniera: protected hospital discharges (Dimissioni Protette), hospital to territory.",
    no_args_is_help=True,
    add_completion=False,
)
dlq_app = typer.Typer(help="Dead-letter topics.", no_args_is_help=True)
app.add_typer(dlq_app, name="dlq")
console = Console()

# Options that more than one command takes, worded once.
SecondsPerDay = Annotated[float, typer.Option(help="Real seconds per simulated day.")]
Timeout = Annotated[float, typer.Option(help="Stop waiting after this many seconds.")]


@app.command()
def up(
    services: Annotated[
        list[str] | None, typer.Option("--service", "-s", help="Only these services.")
    ] = None,
) -> None:
    """Start broker, database, topics and services; Ctrl-C stops everything.

    Uses KAFKA_BOOTSTRAP_SERVERS / DATABASE_URL when set, else the embedded Tansu broker and
    an embedded PostgreSQL (data kept in .cerniera/pgdata).
    """
    configure_logging(json=False)
    raise typer.Exit(run_up(console, services or list(SERVICES)))


@app.command()
def demo(
    cases: Annotated[int, typer.Option(help="Discharges announced over the month.")] = 60,
    seconds_per_day: SecondsPerDay = 3.0,
    seed: Annotated[
        int, typer.Option(help="Seed of the simulation (same seed, same month).")
    ] = 2026,
    out: Annotated[Path, typer.Option(help="Where the report and events go.")] = Path(
        ".cerniera/demo"
    ),
    timeout: Timeout = 900,
    keep: Annotated[
        bool,
        typer.Option(
            "--keep",
            help="After the report, keep the stack and the desk running (Ctrl-C stops them), "
            "to look around the month in the desk.",
        ),
    ] = False,
) -> None:
    """A realistic district month on the embedded stack, time accelerated, then a report.

    Starts broker, database, the four services and the desk (the team's screens: its address
    and the demo users are printed first), plus simulated hospitals (announcements,
    reschedules, cancellations, readmissions), providers (accepting, declining, answering
    late) and the team (weekly checks), and ends with cases by outcome, activation lead
    times, the share of cases with every service active by discharge and spending against
    budget.
    """
    from cerniera.cli.demo.run import run_demo

    configure_logging("WARNING", json=False)
    raise typer.Exit(run_demo(console, cases, seconds_per_day, seed, out, timeout, keep=keep))


@app.command()
def token(
    role: Annotated[
        str,
        typer.Option(help="equipe, district_admin, provider, hospital or auditor."),
    ],
    district: Annotated[str | None, typer.Option(help="The district (ambito_id).")] = None,
    provider: Annotated[str | None, typer.Option(help="The provider's id.")] = None,
    hospital: Annotated[str | None, typer.Option(help="The hospital's id.")] = None,
    user: Annotated[
        str | None, typer.Option(help="A demo account by username (instead of a role).")
    ] = None,
) -> None:
    """Print an access token of a demo account, for curl: -H "Authorization: Bearer $(...)".

    People log in with authorization code and PKCE, hospitals' and providers' systems with
    client credentials, on the identity provider of './cerniera up' (or OIDC_ISSUER).
    """
    from cerniera.cli.identity import tokens

    typer.echo(
        tokens.demo_token(
            stack.oidc_issuer(),
            role=role,
            district=district,
            provider=provider,
            hospital=hospital,
            user=user,
        )
    )


@app.command()
def send(
    files: Annotated[list[Path], typer.Argument(help="JSON CloudEvent files.", exists=True)],
    structured: Annotated[
        bool, typer.Option(help="Send in structured content mode instead of binary.")
    ] = False,
) -> None:
    """Validate and publish events (e.g. examples/events/discharge-announced.json)."""
    events.run(events.send(stack.kafka_settings(), files, structured, console))


@app.command()
def watch(
    topics: Annotated[
        list[str] | None, typer.Argument(help="Topics (default: all, dead letters included).")
    ] = None,
    from_beginning: Annotated[bool, typer.Option(help="Start at the oldest record.")] = True,
    count: Annotated[int | None, typer.Option(help="Stop after this many records.")] = None,
) -> None:
    """Print every event as it arrives, one line each."""
    with contextlib.suppress(KeyboardInterrupt):
        events.run(
            events.watch(stack.kafka_settings(), topics or [], from_beginning, count, console)
        )


@app.command()
def bench(
    cases: Annotated[int, typer.Option(min=1, help="How many discharges to decide.")] = 20_000,
    partitions: Annotated[int, typer.Option(min=1, help="Partitions per topic.")] = 6,
    timeout: Annotated[float, typer.Option(help="Give up after this many seconds.")] = 600,
    pipeline: Annotated[
        bool, typer.Option(help="Run all four services and measure activation's planning too.")
    ] = False,
    baseline: Annotated[
        bool,
        typer.Option(
            help="First measure the raw ceiling (aiokafka + asyncpg doing the same durable work) "
            "and show each rate as a ratio of it."
        ),
    ] = False,
    replicas: Annotated[
        int, typer.Option(min=1, help="Processes of intake and of activation, each set one group.")
    ] = 1,
    rate: Annotated[
        float | None,
        typer.Option(
            min=0.1,
            help="Measure latency instead: offer this many announcements per second (with the "
            "four services) and report p50/p95/p99 to the decision and to the last request.",
        ),
    ] = None,
    duration: Annotated[
        float, typer.Option(min=1, help="With --rate: seconds of steady load.")
    ] = 60,
    profile: Annotated[
        bool,
        typer.Option(help="Sample each service's CPU: where it goes, and SQL statements per case."),
    ] = False,
    pages: Annotated[
        bool,
        typer.Option(
            help="Time the desk's main pages instead, on the running stack (./cerniera up, or "
            "./cerniera demo --keep for the demo's month): p50/p95 per page, target 300 ms."
        ),
    ] = False,
    case: Annotated[
        str | None, typer.Option(help="With --pages: the case page to time (default: one linked).")
    ] = None,
) -> None:
    """Measure throughput end to end (intake's decisions per second; with --pipeline
    activation's cases planned per second and the whole pipeline's cases per second), beside
    the raw ceiling with --baseline; or, with --rate, latency at a steady load. Each service's
    memory is sampled, and its log written to a file. With --pages, the desk's pages."""
    from cerniera.cli.bench import BenchOptions, run_bench

    if pages:
        from cerniera.cli.pagebench import PageBenchError, run_pagebench

        try:
            run_pagebench(
                stack.desk_url(), issuer=stack.oidc_issuer(), case_id=case, out=console.print
            )
        except PageBenchError as error:
            raise SystemExit(f"bench --pages: {error}") from None
        return

    if rate is not None and baseline:
        raise typer.BadParameter("--baseline belongs to a throughput run, not to --rate")
    configure_logging("WARNING", json=False)
    options = BenchOptions(
        cases=cases,
        partitions=partitions,
        timeout=timeout,
        pipeline=pipeline,
        baseline=baseline,
        replicas=replicas,
        profile=profile,
        rate=rate,
        duration=duration,
    )
    run_bench(console, options)


@app.command()
def chaos(
    cases: Annotated[
        int, typer.Option(min=1, help="Cases played through their whole lifecycle.")
    ] = 1000,
    seed: Annotated[int, typer.Option(help="Seed of the cases and of the faults.")] = 2026,
    kill_every: Annotated[
        float, typer.Option(min=0, help="Seconds between SIGKILLs of a random service (0: none).")
    ] = 6.0,
    db_outages: Annotated[
        int, typer.Option(min=0, help="Times the database goes away (5-10 s).")
    ] = 3,
    partitions: Annotated[int, typer.Option(min=1, help="Broker partitions per topic.")] = 6,
    activation_replicas: Annotated[
        int, typer.Option(min=1, help="Activation processes in its one consumer group.")
    ] = 1,
    seconds_per_day: Annotated[
        float, typer.Option(min=0.5, help="Real seconds per simulated day.")
    ] = 4.0,
    timeout: Annotated[
        float, typer.Option(min=30, help="Stop waiting after this many seconds.")
    ] = 900,
    out: Annotated[Path, typer.Option(help="Where the report, events and logs go.")] = Path(
        ".cerniera/chaos"
    ),
) -> None:
    """Play many cases through their lifecycle, with duplicate deliveries, while services are
    SIGKILLed and the database goes away; then count, from the topics and the databases,
    effects lost and duplicated, good events dead-lettered and consumers stuck (exit code 0
    only if all four are 0)."""
    from cerniera.cli.chaos.run import ChaosOptions, run_chaos

    configure_logging("WARNING", json=False)
    options = ChaosOptions(
        cases=cases,
        seed=seed,
        kill_every=kill_every,
        db_outages=db_outages,
        partitions=partitions,
        activation_replicas=activation_replicas,
        seconds_per_day=seconds_per_day,
        timeout=timeout,
        out=out,
    )
    raise typer.Exit(run_chaos(console, options))


@app.command()
def contract(
    directory: Annotated[Path, typer.Argument(help="Where to write the files.")] = Path("docs"),
) -> None:
    """Write the event contract as AsyncAPI 3.0 (asyncapi.yaml, asyncapi.json), from the code:
    the events' models, and who reads each topic from the services' subscriptions."""
    from cerniera.cli.contract import write_contract

    for path in write_contract(directory):
        console.print(f"wrote {path}")


@dlq_app.command("list")
def dlq_list(
    topic: Annotated[
        str, typer.Argument(help="A dead-letter topic, e.g. dp.hospital.discharges.dlq")
    ],
) -> None:
    """Show the dead letters of a topic: where each was read, which group failed it, why."""
    from cerniera.cli import deadletters

    events.run(deadletters.list_letters(stack.kafka_settings(), topic, console))


@dlq_app.command("replay")
def dlq_replay(
    topic: Annotated[
        str, typer.Argument(help="A dead-letter topic, e.g. dp.hospital.discharges.dlq")
    ],
    consumer: Annotated[
        str | None,
        typer.Option(help="Only the dead letters of this consumer group (e.g. activation)."),
    ] = None,
    again: Annotated[
        bool, typer.Option("--again", help="Also those an earlier replay has already sent.")
    ] = False,
) -> None:
    """Send the dead letters present now back to their topic (after a fix), each for the
    consumer group that failed it; a second run sends nothing twice."""
    from cerniera.cli import deadletters

    events.run(
        deadletters.replay(stack.kafka_settings(), topic, console, consumer=consumer, again=again)
    )


@dlq_app.command("discard")
def dlq_discard(
    topic: Annotated[
        str, typer.Argument(help="A dead-letter topic, e.g. dp.hospital.discharges.dlq")
    ],
    consumer: Annotated[str, typer.Option(help="The consumer group that failed it.")],
    case: Annotated[str, typer.Option(help="The case id (the dead letter's key).")],
) -> None:
    """Give up on a case's dead letters: the group releases the case it had parked, and the
    events that waited behind them are applied."""
    from cerniera.cli import deadletters

    events.run(
        deadletters.discard(stack.kafka_settings(), topic, console, consumer=consumer, case=case)
    )


if __name__ == "__main__":
    app()
