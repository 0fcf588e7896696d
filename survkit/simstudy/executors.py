"""Where chunks run: in this process, on joblib (loky) workers, or on a Dask cluster.

Every executor calls the same pure function ``run_chunk(context, task)``; a
replicate's estimates depend only on its seed and the definition, never on
the process, the chunk it shares or the order of completion, so all three
give bit-identical estimates. Each yields ``(task, result)`` as chunks
finish (in any order) so the caller can store them at once.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator


def serial(function, context, tasks) -> Iterator:
    for task in tasks:
        yield task, function(context, task)


def joblib_workers(function, context, tasks, workers: int) -> Iterator:
    from joblib import Parallel, delayed

    # generator_unordered (joblib >= 1.4) hands back each chunk as soon as it
    # is done, so a kill loses at most the chunks still running.
    try:
        parallel = Parallel(n_jobs=workers, backend="loky", return_as="generator_unordered")
    except ValueError:  # older joblib
        parallel = Parallel(n_jobs=workers, backend="loky", return_as="generator")
    results = parallel(delayed(_tagged)(function, context, task) for task in tasks)
    try:
        yield from results
    finally:
        close = getattr(results, "close", None)
        if close is not None:
            close()  # stop dispatching when the caller stops (error or interrupt)


def _tagged(function, context, task):
    return task, function(context, task)


def dask_cluster(function, context, tasks, client) -> Iterator:
    from dask.distributed import as_completed

    # One copy of the definition per worker, not one per task.
    shared = client.scatter(context, broadcast=True, hash=False)
    token = uuid.uuid4().hex[:8]
    futures = {}
    for task in tasks:
        key = f"simstudy-{token}-d{task.mechanism}-r{task.reps[0]}-{task.reps[-1]}"
        futures[client.submit(function, shared, task, key=key, pure=False)] = task
    try:
        for future in as_completed(list(futures)):
            result = future.result()
            yield futures[future], result
            future.release()
    finally:
        pending = [f for f in futures if not f.done()]
        if pending:
            client.cancel(pending)


_TRIM = "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_"


@contextlib.contextmanager
def dask_client(address, workers: int | None):
    """A ``distributed.Client``: ``address`` "local" starts a LocalCluster of
    ``workers`` single-threaded processes on loopback, another string connects
    to that scheduler, a Client is used as given (and left open)."""
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise RuntimeError(
            "running on Dask needs the dask extra; install it with pip install 'survkit[dask]'"
        ) from None
    if isinstance(address, Client):
        yield address
        return
    cluster = None
    try:
        if address == "local":
            import dask

            # Dask starts workers with MALLOC_TRIM_THRESHOLD_=65536, which makes
            # glibc mmap and unmap every array above 64 KiB; the fits allocate
            # many such arrays and ran 20-40 % slower with it. None unsets it.
            with dask.config.set({_TRIM: None}):
                cluster = LocalCluster(
                    n_workers=workers or 2,
                    threads_per_worker=1,  # one chunk per process at a time
                    processes=True,
                    dashboard_address=None,
                    host="127.0.0.1",
                )
            client = Client(cluster)
        else:
            try:
                client = Client(address, timeout="20s")
            except (OSError, TimeoutError, ValueError) as error:
                raise RuntimeError(
                    f"could not connect to the Dask scheduler at {address!r} ({error}); "
                    "check the address (e.g. tcp://host:8786) or use --dask local"
                ) from None
        try:
            yield client
        finally:
            client.close()
    finally:
        if cluster is not None:
            cluster.close()
