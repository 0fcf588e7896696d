"""Simulation-study throughput: serial, joblib workers and a Dask LocalCluster.

    python benchmarks/simstudy.py [--n 2000] [--reps 96] [--workers 2]

One study (the default scenario, every method, every estimand) is run three
ways into fresh directories, each after an untimed warm-up run that starts the
workers and loads numba's compiled kernels in them (reported as start-up).
Per run: wall time, replicates per second, speed-up over serial, and where the
time went, from the per-chunk timings the workers store:

- fits: inside the methods (model fits and their predictions);
- simulate: drawing the cohorts (simulate_cohort);
- harness: everything else (analysis frame, seeds, collecting rows, parquet
  writes, scheduling, idle workers at the end), i.e. worker-seconds
  (workers x wall) minus fits minus simulate.

"outside fits" = (worker-seconds - fits) / worker-seconds is the overhead
fraction the harness is held to (< 5 %); it counts simulation as overhead,
although drawing the data is part of any simulation study. The estimates of
the three runs are also checked to be bit-identical.

On a shared machine other processes take CPU too, so the table's last line
measures what the machine gave at the time: the same pure-Python loop run
``workers`` times serially and then in ``workers`` processes at once ("machine
scaling", ideally = workers). Parallel efficiency is speed-up / machine scaling.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _common import print_table

from survkit.simstudy import DataGeneratingMechanism, StudyDefinition, run_study
from survkit.simstudy.executors import dask_client


def study(n: int, reps: int, seed: int = 1) -> StudyDefinition:
    return StudyDefinition(scenarios=(DataGeneratingMechanism(n=n),), reps=reps, seed=seed)


def timed(definition, workers=1, dask=None):
    out = tempfile.mkdtemp(prefix="simstudy-bench-")
    try:
        t0 = time.perf_counter()
        result = run_study(definition, out, workers=workers, dask=dask, summarise=False)
        wall = time.perf_counter() - t0
    finally:
        shutil.rmtree(out, ignore_errors=True)
    return wall, result


def row(name, workers, wall, result, serial_wall, startup):
    timings = result.chunk_timings
    fits = sum(sum(t["fit"].values()) for t in timings)
    simulate = sum(t["simulate"] for t in timings)
    worker_seconds = workers * wall
    reps = sum(t["reps"] for t in timings)
    return {
        "executor": name,
        "workers": workers,
        "reps": reps,
        "seconds": wall,
        "reps/s": reps / wall,
        "speed-up": serial_wall / wall if serial_wall else 1.0,
        "fits %": 100 * fits / worker_seconds,
        "simulate %": 100 * simulate / worker_seconds,
        "harness %": 100 * (worker_seconds - fits - simulate) / worker_seconds,
        "outside fits %": 100 * (worker_seconds - fits) / worker_seconds,
        "start-up s": startup,
    }


def _spin(_):
    total = 0
    for i in range(6_000_000):
        total += i * i
    return total


def machine_scaling(workers: int) -> float:
    """Speed-up of ``workers`` CPU-bound processes over running them one by one."""
    from multiprocessing import get_context

    with get_context("spawn").Pool(workers) as pool:
        pool.map(_spin, range(workers))  # start the processes first
        t0 = time.perf_counter()
        for i in range(workers):
            _spin(i)
        serial = time.perf_counter() - t0
        t0 = time.perf_counter()
        pool.map(_spin, range(workers), chunksize=1)
        parallel = time.perf_counter() - t0
    return serial / parallel


def same(a, b) -> bool:
    return all(
        np.array_equal(a[c].to_numpy().view(np.uint64), b[c].to_numpy().view(np.uint64))
        for c in ("estimate", "se")
    ) and a.drop(columns=["estimate", "se"]).equals(b.drop(columns=["estimate", "se"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--reps", type=int, default=96)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    definition = study(args.n, args.reps)
    warm = study(args.n, 2 * args.workers, seed=99)
    rows = []

    startup, _ = timed(warm)
    wall, serial = timed(definition)
    rows.append(row("serial", 1, wall, serial, wall, startup))
    serial_wall = wall

    startup, _ = timed(warm, workers=args.workers)
    wall, joblib_run = timed(definition, workers=args.workers)
    rows.append(row("joblib (loky)", args.workers, wall, joblib_run, serial_wall, startup))

    try:
        t0 = time.perf_counter()
        with dask_client("local", args.workers) as client:
            timed(warm, dask=client)
            startup = time.perf_counter() - t0
            wall, dask_run = timed(definition, dask=client)
        rows.append(row("dask LocalCluster", args.workers, wall, dask_run, serial_wall, startup))
    except RuntimeError as error:  # dask not installed
        print(f"dask skipped: {error}")
        dask_run = None

    print(
        f"simulation study: n = {args.n}, {args.reps} replicates, every method "
        f"({', '.join(definition.methods)}), {os.cpu_count()} CPUs"
    )
    print_table(rows, list(rows[0]))
    scaling = machine_scaling(args.workers)
    print(
        f"machine scaling now: {scaling:.2f}x with {args.workers} processes "
        f"(ideal {args.workers}); parallel efficiency joblib "
        f"{rows[1]['speed-up'] / scaling:.0%}"
        + (f", dask {rows[2]['speed-up'] / scaling:.0%}" if len(rows) > 2 else "")
    )
    identical = same(serial.estimates, joblib_run.estimates) and (
        dask_run is None or same(serial.estimates, dask_run.estimates)
    )
    print(f"estimates bit-identical across executors: {identical}")
    if not identical:
        sys.exit(1)


if __name__ == "__main__":
    main()
