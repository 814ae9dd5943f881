"""Executors: where a sweep's tasks run, in local processes or on a Dask cluster.

Local pool workers die with the sweep's process, ``kill -9`` included
(:func:`_init_worker`). ``scheduler="tcp://host:port"`` sends the tasks to an existing Dask
cluster (``pip install 'normsim[sweep]'`` on every worker; Dask is imported only then).
Tasks return their tables to this process, which writes them, so workers need no shared
file system. On SLURM or PBS, dask-jobqueue starts the workers as batch jobs::

    from dask_jobqueue import SLURMCluster   # or PBSCluster
    cluster = SLURMCluster(cores=32, processes=32, memory="64GB", walltime="02:00:00")
    cluster.scale(jobs=4)
    print(cluster.scheduler_address)         # then: normsim sweep FILE --scheduler ADDRESS
"""

from __future__ import annotations

import itertools
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from normsim.experiments.tasks import TaskResult, TaskSpec, run_task


class SweepUsageError(Exception):
    """A sweep that cannot start as asked (folder in use, scheduler unreachable)."""


ORPHAN_POLL_S = 0.5
"""How often a pool worker checks that the process that started it is still alive."""


def _die_with_parent() -> None:
    """Ask Linux to send this process SIGKILL when its parent dies (PR_SET_PDEATHSIG).

    Does nothing where ``prctl`` is missing (macOS, Windows): the watchdog of
    :func:`_init_worker` covers those.
    """
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _watch_parent(parent: int) -> None:
    """Exit at once when the parent is gone (this process is re-parented)."""
    while os.getppid() == parent:
        time.sleep(ORPHAN_POLL_S)
    os._exit(1)


def _init_worker(parent: int) -> None:
    """Worker initializer: leave Ctrl-C to the parent, and never outlive it.

    Ctrl-C is the parent's to handle (it cancels, then resumes). If the parent dies
    without shutting the pool down (``kill -9``, a crash), a worker waiting for its next
    task would wait forever, holding the pipe of multiprocessing's resource tracker open
    so that the tracker stays too. So the worker asks the kernel to kill it with its
    parent (Linux), and a daemon thread exits it when ``os.getppid()`` stops being
    ``parent`` (everywhere; this also catches a parent that died before the initializer
    ran). With the workers gone, the tracker sees its pipe close and exits.

    Args:
        parent: the PID of the process that started the pool.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()
    if os.getppid() != parent:
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def _run_local(
    specs: Iterator[TaskSpec], workers: int, on_done: Callable[[TaskResult], None]
) -> None:
    """Local processes: a spawn-context pool, at most 2 x workers tasks in flight.

    One worker runs the tasks in this process, with nothing to start.
    """
    if workers == 1:
        for spec in specs:
            on_done(run_task(spec))
        return
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(
        workers, mp_context=context, initializer=_init_worker, initargs=(os.getpid(),)
    )
    try:
        pending: set = set()
        for spec in specs:
            pending.add(pool.submit(run_task, spec))
            while len(pending) >= 2 * workers:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    on_done(future.result())
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                on_done(future.result())
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()


def _connect(address: str) -> Any:
    """A Dask client of the scheduler at ``address`` (Dask is imported only here)."""
    try:
        from distributed import Client
    except ImportError:
        raise SweepUsageError("--scheduler needs Dask: pip install 'normsim[sweep]'") from None
    try:
        return Client(address, timeout="10s")
    except (OSError, TimeoutError, ValueError) as err:
        raise SweepUsageError(f"cannot reach the Dask scheduler at {address}: {err}") from None


def _run_dask(
    specs: Iterator[TaskSpec], client: Any, on_done: Callable[[TaskResult], None]
) -> None:
    """An existing Dask cluster; tasks return their tables here, so no shared disk is needed."""
    from distributed import as_completed

    try:
        window = 2 * max(1, sum(client.nthreads().values()))
        queue = as_completed()
        specs = iter(specs)
        for spec in itertools.islice(specs, window):
            queue.add(client.submit(run_task, spec, pure=False))
        for future in queue:
            result = future.result()
            future.release()
            on_done(result)
            nxt = next(specs, None)
            if nxt is not None:
                queue.add(client.submit(run_task, nxt, pure=False))
    finally:
        client.close()

