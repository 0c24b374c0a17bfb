"""Executors: run one function over many items on this machine or on a Ray cluster.

An :class:`Executor` maps ``fn`` over ``items`` and yields an :class:`Outcome` per item as soon as
it finishes (in completion order, each carrying its index). An exception raised by ``fn`` for one
item never stops the others: it becomes that item's ``error`` (one line), marked as bad input
(:class:`~partlift.errors.PartliftError` or ``OSError``) or as an internal error (anything else).

State every item needs, such as a model, is a :class:`Shared`: ``load(payload)`` runs once per
worker process, on its first item, and ``fn(state, item)`` receives the result. The payload (for
instance a model folder's bytes) travels to each worker once: in the process pool's initializer
for :class:`LocalExecutor`, and for :class:`RayExecutor` through Ray's object store, where it is
put a single time (``ray.put``) and fetched by reference only by workers that have not loaded it.

- :class:`LocalExecutor`: one worker runs the items in this process; more start a pool of spawned
  processes (one numba thread each, the pool provides the parallelism).
- :class:`RayExecutor`: joins a Ray cluster (``address``) or starts a local one on ``workers``
  CPUs; each item is one Ray task of one CPU, submitted in a bounded window and collected with
  ``ray.wait``. A task whose worker process dies (killed, out of memory, node lost) is retried up
  to ``max_retries`` times by Ray; a pool process that dies is replaced the same way.

Both backends run the same worker set-up and the same wrapper, so with the same settings they
produce the same files byte for byte. ``ray`` is imported only here, and only when a
:class:`RayExecutor` is built.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import socket
import time
import traceback
import uuid
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from types import ModuleType, TracebackType
from typing import Any, Generic, Literal, TypeVar

from partlift.errors import ConfigError, PartliftError
from partlift.validation import bounded, validate_config

Backend = Literal["local", "ray"]
ErrorKind = Literal["input", "internal", "lost"]
RAY_MISSING = "--backend ray needs the 'dist' extra: pip install 'partlift[dist]'"

P = TypeVar("P")
S = TypeVar("S")


@dataclass(frozen=True)
class ExecutorConfig:
    """Where the items of a batch run (``--backend``, ``--workers``, ``--address``)."""

    backend: Backend = "local"
    """"local": this machine (in this process, or a pool of spawned processes); "ray": a Ray cluster."""
    workers: int | None = bounded(None, ge=1)
    """Items run at once. None: 1 for local (in this process), every CPU of the cluster for ray."""
    address: str | None = None
    """Ray cluster to join ("auto", "HOST:PORT", "ray://HOST:10001"); None starts a local Ray on ``workers``
    CPUs. Only for backend "ray"."""
    max_retries: int = bounded(3, ge=0)
    """Retries of an item whose worker process died (killed, out of memory, node lost)."""
    gpus_per_item: float = bounded(0.0, ge=0)
    """GPUs each item reserves on Ray (``--device cuda`` sets 1, so Ray places items on GPU nodes
    and never runs more at once than there are GPUs); ignored by the local backend."""

    def __post_init__(self) -> None:
        validate_config(self)
        if self.address is not None and self.backend != "ray":
            raise ConfigError("--address is for --backend ray (ExecutorConfig.address needs backend 'ray')")


@dataclass(frozen=True)
class Shared(Generic[P, S]):
    """State loaded once per worker: ``load(payload)``. ``load`` must be a module-level function and
    ``payload`` picklable (both travel to the workers)."""

    load: Callable[[P], S]
    payload: P


@dataclass(frozen=True)
class Outcome:
    """What one item gave.

    Attributes:
        index: position of the item in the ``items`` passed to ``map_unordered``.
        value: ``fn``'s return value (None if it failed).
        error: one-line reason the item failed, or None.
        kind: "input" (a PartliftError or OSError: bad input), "internal" (any other exception: a
            bug) or "lost" (its worker process died more than ``max_retries`` times).
        seconds: time ``fn`` took in the worker (loading the shared state included, on a worker's
            first item).
        cpu_seconds: CPU time of the worker process (all its threads) during ``fn``.
        worker: ``host:pid`` of the process that ran it.
        peak_rss: peak resident memory of that process so far, bytes (None where unknown).
        details: the traceback of an internal error.
    """

    index: int
    value: Any = None
    error: str | None = None
    kind: ErrorKind | None = None
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    worker: str = ""
    peak_rss: int | None = None
    details: str = field(default="", repr=False)

    @property
    def bad_input(self) -> bool:
        """The item failed because of its input (not a bug, not a lost worker)."""
        return self.kind == "input"


# ------------------------------------------------------------------------------------ worker side
# A worker process keeps the state of the job it is serving (one at a time) and does its set-up once.
_state: tuple[str, Any] | None = None
_worker_ready = False
_pool_shared: Shared[Any, Any] | None = None


def _setup_worker() -> None:
    """Once per worker process: one numba thread (the executor provides the parallelism) and passive
    OpenMP waiting, so busy workers do not slow each other down on a shared machine."""
    global _worker_ready
    if _worker_ready:
        return
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        import numba

        numba.set_num_threads(1)
    except Exception:  # noqa: BLE001 - numba missing or its threading layer unavailable
        pass
    _worker_ready = True


def _worker_state(token: str, load: Callable[[Any], Any], fetch: Callable[[], Any]) -> Any:
    """The state of job ``token`` in this process, loaded on first use (the previous job's is dropped)."""
    global _state
    if _state is None or _state[0] != token:
        _state = None
        _state = (token, load(fetch()))
    return _state[1]


def one_line(text: object) -> str:
    """``text`` on one line (lines joined with '; ')."""
    return "; ".join(s.strip() for s in str(text).splitlines() if s.strip())


def peak_rss_bytes() -> int | None:
    """Peak resident set size of this process in bytes (Linux ``/proc``; None elsewhere)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _run_item(fn: Callable[..., Any], index: int, item: Any, state: Callable[[], Any] | None) -> Outcome:
    """Run one item, turning an exception into the item's error."""
    t0, c0 = time.perf_counter(), time.process_time()
    value = None
    error: str | None = None
    kind: ErrorKind | None = None
    details = ""
    try:
        value = fn(item) if state is None else fn(state(), item)
    except (PartliftError, OSError) as exc:
        error, kind = one_line(exc) or type(exc).__name__, "input"
    except Exception as exc:  # noqa: BLE001 - a bug in one item must not stop the batch; it is reported
        error, kind = f"internal error: {type(exc).__name__}: {one_line(exc)}", "internal"
        details = traceback.format_exc()
    return Outcome(index, value, error, kind, time.perf_counter() - t0, time.process_time() - c0,
                   f"{socket.gethostname()}:{os.getpid()}", peak_rss_bytes(), details)


def _pool_init(shared: Shared[Any, Any] | None) -> None:
    global _pool_shared
    _setup_worker()
    _pool_shared = shared


def _pool_call(fn: Callable[..., Any], token: str, index: int, item: Any) -> Outcome:
    shared = _pool_shared
    if shared is None:
        return _run_item(fn, index, item, None)
    return _run_item(fn, index, item, lambda: _worker_state(token, shared.load, lambda: shared.payload))


def _ray_call(fn: Callable[..., Any], token: str, load: Callable[[Any], Any] | None, payload_ref: list[Any],
              index: int, item: Any) -> Outcome:
    """A Ray task. ``payload_ref`` wraps the payload's ObjectRef in a list so that Ray does not fetch
    it for every task: only a worker that has not loaded the state yet calls ``ray.get``."""
    _setup_worker()
    if load is None:
        return _run_item(fn, index, item, None)

    def fetch() -> Any:
        import ray

        return ray.get(payload_ref[0])

    return _run_item(fn, index, item, lambda: _worker_state(token, load, fetch))


# ------------------------------------------------------------------------------------ executors
class Executor(ABC):
    """Maps a function over items somewhere; see the module docstring."""

    backend: str = ""
    workers: int = 1
    max_retries: int = 3

    @abstractmethod
    def map_unordered(self, fn: Callable[..., Any], items: Sequence[Any], *,
                      shared: Shared[Any, Any] | None = None) -> Iterator[Outcome]:
        """Run ``fn(item)`` (or ``fn(state, item)`` with ``shared``) for every item; yield an
        :class:`Outcome` per item as it finishes. ``fn`` must be a module-level function."""

    def close(self) -> None:  # noqa: B027 - nothing to release by default
        """Release the workers (a Ray session this executor started is shut down)."""

    def describe(self) -> dict[str, Any]:
        """Backend and worker count, for summaries."""
        return {"backend": self.backend, "workers": self.workers}

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


class LocalExecutor(Executor):
    """This machine: in this process for one worker, else a pool of ``workers`` spawned processes."""

    backend = "local"

    def __init__(self, workers: int = 1, max_retries: int = 3) -> None:
        if workers < 1:
            raise ConfigError(f"--workers must be >= 1, got {workers}")
        self.workers = int(workers)
        self.max_retries = int(max_retries)

    def map_unordered(self, fn: Callable[..., Any], items: Sequence[Any], *,
                      shared: Shared[Any, Any] | None = None) -> Iterator[Outcome]:
        if self.workers <= 1 or len(items) <= 1:
            yield from self._in_process(fn, items, shared)
        else:
            yield from self._pool(fn, items, shared)

    def _in_process(self, fn: Callable[..., Any], items: Sequence[Any],
                    shared: Shared[Any, Any] | None) -> Iterator[Outcome]:
        loaded: list[Any] = []

        def state() -> Any:
            if not loaded:
                assert shared is not None
                loaded.append(shared.load(shared.payload))
            return loaded[0]

        for i, item in enumerate(items):
            yield _run_item(fn, i, item, None if shared is None else state)

    def _pool(self, fn: Callable[..., Any], items: Sequence[Any],
              shared: Shared[Any, Any] | None) -> Iterator[Outcome]:
        # spinning OpenMP barriers make busy workers slow each other down on a shared machine
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        token = uuid.uuid4().hex
        ctx = multiprocessing.get_context("spawn")
        todo: deque[tuple[int, int]] = deque((i, 1) for i in range(len(items)))  # (index, attempt)
        pending: dict[Future[Outcome], tuple[int, int]] = {}
        window = 2 * self.workers
        pool: ProcessPoolExecutor | None = None
        lost: list[Outcome] = []

        def died(i: int, attempt: int) -> None:
            if attempt > self.max_retries:
                lost.append(Outcome(i, error=f"its worker process died {attempt} times (killed or out of memory)",
                                    kind="lost"))
            else:
                todo.append((i, attempt + 1))

        try:
            while todo or pending:
                if pool is None:
                    pool = ProcessPoolExecutor(self.workers, mp_context=ctx, initializer=_pool_init,
                                               initargs=(shared,))
                broken = False
                while todo and len(pending) < window:
                    i, attempt = todo.popleft()
                    try:
                        pending[pool.submit(_pool_call, fn, token, i, items[i])] = (i, attempt)
                    except BrokenProcessPool:
                        todo.appendleft((i, attempt))
                        broken = True
                        break
                if pending and not broken:
                    done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
                    for fut in done:
                        i, attempt = pending.pop(fut)
                        try:
                            outcome = fut.result()
                        except BrokenProcessPool:
                            broken = True
                            died(i, attempt)
                            continue
                        except Exception as exc:  # noqa: BLE001 - e.g. an item that cannot be pickled
                            outcome = Outcome(i, error=f"internal error: {type(exc).__name__}: {one_line(exc)}",
                                              kind="internal")
                        yield outcome
                yield from lost
                lost.clear()
                if broken:  # every other running item died with the pool: run them again in a new one
                    for i, attempt in pending.values():
                        died(i, attempt)
                    pending.clear()
                    pool.shutdown(wait=False, cancel_futures=True)
                    pool = None
                    yield from lost
                    lost.clear()
        finally:
            if pool is not None:
                pool.shutdown(wait=not pending, cancel_futures=True)


def import_ray() -> ModuleType:
    """The ``ray`` module, or a one-line error naming the extra to install."""
    try:
        import ray
    except ImportError:
        raise ConfigError(RAY_MISSING) from None
    return ray


class RayExecutor(Executor):
    """A Ray cluster: the one at ``address``, or a local one started with ``workers`` CPUs (no dashboard).

    A session that is already initialised in this process is used as it is (and left running).
    """

    backend = "ray"

    def __init__(self, address: str | None = None, workers: int | None = None, max_retries: int = 3,
                 gpus_per_item: float = 0.0) -> None:
        ray = import_ray()
        self._ray = ray
        self._started = False
        self.max_retries = int(max_retries)
        if not ray.is_initialized():
            if address:
                ray.init(address=address, log_to_driver=False, logging_level=logging.WARNING)
            else:
                ray.init(num_cpus=workers or os.cpu_count() or 1, include_dashboard=False, log_to_driver=False,
                         logging_level=logging.WARNING)
            self._started = True
        self.cluster_cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
        self.workers = int(workers) if workers else self.cluster_cpus
        self.address = address
        # at most `workers` items run at once; when they fill the cluster, as many more wait in Ray's
        # queue so that a finishing worker never idles while the driver submits the next item
        self.window = self.workers if self.workers < self.cluster_cpus else 2 * self.workers
        self.gpus_per_item = float(gpus_per_item)
        if self.gpus_per_item > 0 and ray.cluster_resources().get("GPU", 0) < self.gpus_per_item:
            raise ConfigError(f"--device cuda: the Ray cluster has {ray.cluster_resources().get('GPU', 0):g} GPUs; "
                              "join one with GPUs (--address) or use --device cpu")
        self._remote = ray.remote(num_cpus=1, num_gpus=self.gpus_per_item, max_retries=self.max_retries,
                                  retry_exceptions=False)(_ray_call)

    def describe(self) -> dict[str, Any]:
        return {"backend": self.backend, "workers": self.workers, "cluster_cpus": self.cluster_cpus,
                "address": self.address or "local"}

    def map_unordered(self, fn: Callable[..., Any], items: Sequence[Any], *,
                      shared: Shared[Any, Any] | None = None) -> Iterator[Outcome]:
        ray = self._ray
        token = uuid.uuid4().hex
        load = shared.load if shared is not None else None
        payload_ref = [ray.put(shared.payload)] if shared is not None else [None]  # once, by reference
        pending: dict[Any, int] = {}
        next_index = 0
        try:
            while next_index < len(items) or pending:
                while next_index < len(items) and len(pending) < self.window:
                    ref = self._remote.remote(fn, token, load, payload_ref, next_index, items[next_index])
                    pending[ref] = next_index
                    next_index += 1
                ready, _ = ray.wait(list(pending), num_returns=1)
                for ref in ready:
                    i = pending.pop(ref)
                    try:
                        outcome = ray.get(ref)
                    except ray.exceptions.RayError as exc:  # the worker died more than max_retries times
                        outcome = Outcome(i, error=f"its worker was lost ({type(exc).__name__}) after "
                                                   f"{self.max_retries} retries: {one_line(exc)[:200]}", kind="lost")
                    yield outcome
        finally:  # stopped early (Ctrl-C, the consumer gave up): drop what has not finished
            for ref in pending:
                try:
                    ray.cancel(ref, force=True)
                except Exception:  # noqa: BLE001 - Ray already shut down, or the task just finished
                    pass

    def close(self) -> None:
        if self._started and self._ray.is_initialized():
            self._ray.shutdown()
        self._started = False


def make_executor(config: ExecutorConfig) -> Executor:
    """The executor of ``config`` (``--backend``, ``--workers``, ``--address``)."""
    if config.backend == "ray":
        return RayExecutor(config.address, config.workers, config.max_retries, config.gpus_per_item)
    return LocalExecutor(config.workers or 1, config.max_retries)
