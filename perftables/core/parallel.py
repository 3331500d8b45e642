"""Work spread over processes: every phase that does the same thing to many inputs (reading returns,
writing templates, making summary rows) goes through here — results in input order, as they come, in
worker processes when it pays, else (or if processes cannot be had) in this one."""
from __future__ import annotations

import gc
import os
import sys
import time
from contextlib import contextmanager


@contextmanager
def fewer_gc_passes():
    """collect builds millions of small objects that are never cyclic garbage; with Python's
    default thresholds the collector rescans the growing heap over and over — a third of the
    run. Rarer passes, the same result."""
    old = gc.get_threshold()
    gc.set_threshold(100_000, 50, 1000)
    try:
        yield
    finally:
        gc.set_threshold(*old)


# Windows' process pools wait on at most 63 handles: ProcessPoolExecutor refuses more than 61 workers there
WINDOWS_MAX_WORKERS = 61


def usable_workers(workers: int) -> int:
    """As many workers as asked, within what the platform's process pool can hold."""
    return max(1, min(workers, WINDOWS_MAX_WORKERS)) if sys.platform == "win32" else max(1, workers)


def default_workers() -> int:
    env = os.environ.get("PERFTABLES_WORKERS")
    return usable_workers(int(env) if env and env.isdigit() else (os.cpu_count() or 1))


def _worker_init() -> None:
    """Worker processes leave Ctrl-C to the main process (which stops them) and print no traceback."""
    import signal
    signal.signal(signal.SIGINT, signal.SIG_IGN)


PARALLEL_SECONDS = [0.0]   # time spent with several processes at work (the benchmark's measure of the serial rest)


def parallel_map(func, items: list, workers: int | None, progress=None, min_items: int = 8) -> list:
    """func over items in input order: in worker processes when it pays, else (or if that fails) serially."""
    return list(parallel_iter(func, items, workers, progress, min_items))


def parallel_iter(func, items: list, workers: int | None, progress=None, min_items: int = 8):
    """parallel_map, each result given as soon as it is there (none held for the caller)."""
    workers = default_workers() if workers is None else usable_workers(workers)
    done = 0
    if workers > 1 and len(items) >= min_items:
        from concurrent.futures import ProcessPoolExecutor
        from concurrent.futures.process import BrokenProcessPool
        try:
            pool = ProcessPoolExecutor(max_workers=workers, initializer=_worker_init)
        except (OSError, RuntimeError, ImportError, NotImplementedError):   # no processes here (sandbox)
            pool = None
        if pool is not None:
            started = time.perf_counter()
            gc.freeze()   # what this process holds now is never scanned by the workers' collector (no copies)
            try:
                for result in pool.map(func, *zip(*items), chunksize=max(1, len(items) // (workers * 32))):
                    done += 1
                    if progress:
                        progress(1)
                    yield result
                pool.shutdown()
                PARALLEL_SECONDS[0] += time.perf_counter() - started
                return
            except BaseException as exc:
                # Ctrl-C, the caller stopping or a failure: drop what is queued, do not wait for it
                pool.shutdown(wait=False, cancel_futures=True)
                if not isinstance(exc, (BrokenProcessPool, OSError)):
                    raise
            finally:
                gc.unfreeze()
    for args in items[done:]:   # the rest, here
        result = func(*args)
        if progress:
            progress(1)
        yield result
