"""``cerniera bench --profile``: where each service spends its CPU, from inside the process.

A service runs under ``run_sampled``: every 2 ms of its CPU time (user + system, SIGPROF) the
main thread's Python stack is counted, and each SQL statement it executes too. cProfile does
not fit these services: SQLAlchemy's asyncio layer runs each statement in a greenlet, whose
stack starts afresh (here it is joined to the coroutine that runs it), and cProfile counts a
coroutine once per resumption. Written at exit (SIGTERM stops a service gracefully) as folded
stacks (``<out>``, one ``frame;frame;... count`` a line, what flame-graph tools read) and
statement counts (``<out>.sql``); ``summary`` condenses both for the bench's table.
"""

from __future__ import annotations

import atexit
import collections
import runpy
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

INTERVAL_S = 0.002


def argv(module: str, out: Path) -> list[str]:
    """The command that runs ``python -m <module> run`` under the sampler."""
    code = "import sys; from cerniera.cli.sampler import run_sampled; run_sampled(sys.argv[1:])"
    return [sys.executable, "-c", code, str(out), module, "run"]


def _name(frame: FrameType) -> str:
    path = frame.f_code.co_filename
    for marker in ("site-packages/", "/src/"):
        path = path.rsplit(marker, 1)[-1]
    return f"{path}:{frame.f_code.co_name}"


def _chain(frame: FrameType | None) -> tuple[list[str], str | None]:
    """The frames from ``frame`` outwards, and the outermost one's file."""
    names: list[str] = []
    outermost = None
    while frame is not None:
        names.append(_name(frame))
        outermost = frame.f_code.co_filename
        frame = frame.f_back
    return names, outermost


def run_sampled(args: list[str]) -> None:
    """``args``: the output file, the module to run, its arguments."""
    import greenlet  # type: ignore[import-untyped]
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    out, module, *rest = args
    stacks: collections.Counter[str] = collections.Counter()
    statements: collections.Counter[str] = collections.Counter()
    spawner: list[FrameType | None] = [None]

    def switched(_event: str, switch: tuple[Any, Any]) -> None:
        origin, target = switch
        # Into a statement's greenlet: remember where the coroutine waits for it.
        spawner[0] = origin.gr_frame if target.parent is not None else None

    def sample(_signum: int, frame: FrameType | None) -> None:
        names, outermost = _chain(frame)
        if outermost != "<string>" and spawner[0] is not None:  # inside a greenlet
            names += ["<greenlet>", *_chain(spawner[0])[0]]
        stacks[";".join(reversed(names))] += 1

    def executed(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements[" ".join(statement.split())[:100]] += 1

    def write() -> None:
        signal.setitimer(signal.ITIMER_PROF, 0)
        Path(out).write_text("".join(f"{stack} {n}\n" for stack, n in stacks.items()))
        Path(f"{out}.sql").write_text(
            "".join(f"{n}\t{sql}\n" for sql, n in statements.most_common())
        )

    greenlet.settrace(switched)
    event.listen(Engine, "before_cursor_execute", executed)
    atexit.register(write)
    signal.signal(signal.SIGPROF, sample)
    signal.setitimer(signal.ITIMER_PROF, INTERVAL_S, INTERVAL_S)
    sys.argv = [module, *rest]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


# --- reading a profile ----------------------------------------------------------------------

LIBRARIES = {
    "SQLAlchemy": "sqlalchemy/",
    "asyncpg": "asyncpg/",
    "pydantic": "pydantic",
    "aiokafka": "aiokafka/",
}
"""Whose code a sample is in, by the first frame of each (a SQLAlchemy sample that reaches
asyncpg counts for asyncpg only)."""


WRAPPERS = ("main.py:", "handlers.py:", "entrypoint.py:", "runtime.py:", "messaging/")
"""Layers every batch passes through (and thin handlers): left out of the heaviest
functions."""


@dataclass(frozen=True)
class Profile:
    cpu_s: float
    """CPU seconds sampled once the service had started (imports left out)."""
    startup_s: float
    shares: dict[str, float]
    """Of ``cpu_s``, the share spent in each of ``LIBRARIES``."""
    functions: list[tuple[str, float]]
    """Our own functions (cerniera's), by inclusive share of ``cpu_s``, heaviest first."""
    statements: int


def summary(lines: list[str], sql: list[str], top: int = 8) -> Profile:
    """Condense folded stacks (``lines``) and statement counts (``sql``)."""
    busy = startup = 0
    shares: collections.Counter[str] = collections.Counter()
    functions: collections.Counter[str] = collections.Counter()
    for line in lines:
        stack, count = line.rsplit(" ", 1)
        n = int(count)
        frames = stack.split(";")
        if any("importlib._bootstrap" in f for f in frames):
            startup += n
            continue
        busy += n
        if any(f.startswith(LIBRARIES["asyncpg"]) for f in frames):
            shares["asyncpg"] += n
        else:
            for library, prefix in LIBRARIES.items():
                if any(f.startswith(prefix) for f in frames):
                    shares[library] += n
                    break
        for own in {f for f in frames if f.startswith("cerniera/") and "/cli/" not in f}:
            functions[own.removeprefix("cerniera/")] += n
    heavy = [
        (name, n / busy)
        for name, n in functions.most_common()
        if not any(wrapper in name for wrapper in WRAPPERS)
    ][:top]
    return Profile(
        cpu_s=busy * INTERVAL_S,
        startup_s=startup * INTERVAL_S,
        shares={library: shares[library] / busy if busy else 0.0 for library in LIBRARIES},
        functions=heavy,
        statements=sum(int(line.split("\t", 1)[0]) for line in sql if line.strip()),
    )


def read(out: Path) -> Profile | None:
    sql = out.with_name(f"{out.name}.sql")
    if not out.exists() or not sql.exists():
        return None
    return summary(out.read_text().splitlines(), sql.read_text().splitlines())
