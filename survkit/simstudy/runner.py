"""Running a study: seeds, chunks, execution, durable appends, and the summary.

Seeding
    Replicate r of mechanism d simulates from ``SeedSequence(seed,
    spawn_key=(d, r))``, which is exactly ``SeedSequence(seed).spawn(D)[d]
    .spawn(R)[r]``: a replicate's data depend on (seed, d, r) only, not on
    ``reps``, chunking, worker count or completion order. The reference cohort
    for the truth uses the key (d, 2**32), out of reach of any replicate.

Reproducibility across processes
    Each chunk runs under ``threadpoolctl.threadpool_limits(1)``: BLAS
    (used by the Cox engine for x x' sums) may split a reduction differently
    with another thread count, and joblib/Dask workers, the main process and
    a remote cluster would otherwise each choose their own. The numba kernels
    are serial, compiled without fastmath, so they are IEEE-exact wherever they
    run. Bit-identity is therefore guaranteed on one machine (and across
    machines with the same CPU features and library builds; NumPy's SIMD
    exp/log and BLAS kernels are chosen per CPU).

Chunks
    Replicates run in chunks (default: about 6 chunks per worker, so the last
    ones finish close together; at most 25 replicates, at least 1), each
    stored atomically once finished (``store``). On restart the stored
    chunks' replicate indices are skipped; only contiguous runs of missing
    replicates form new chunks.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .definition import StudyDefinition
from .estimands import Plan, estimand_table
from .methods import METHODS, analysis_frame
from .performance import failure_summary, performance
from .store import COLUMNS as ESTIMATE_COLUMNS
from .store import EstimateStore

_MAX_CHUNK = 25
# Thread limits and warning capture are process-wide, so a worker process with
# several threads (a remote Dask worker started with --nthreads > 1) must run
# its chunks one at a time to keep results and failure reasons exact.
_ONE_CHUNK_AT_A_TIME = threading.Lock()


def replicate_seed(seed: int, mechanism: int, rep: int) -> np.random.SeedSequence:
    return np.random.SeedSequence(seed, spawn_key=(mechanism, rep))


@dataclass(frozen=True)
class Context:
    """What a worker needs: the definition and each mechanism's resolved scenario
    contents (so remote workers never read the driver's scenario files)."""

    study: StudyDefinition
    tables: tuple
    fingerprint: str = ""


# Parsed scenario and plan per (fingerprint, mechanism), kept by each worker
# process so chunks after the first skip the parsing; a few entries suffice.
_PREPARED: dict = {}


def _prepared(context: Context, mechanism: int):
    key = (context.fingerprint, mechanism)
    if not context.fingerprint or key not in _PREPARED:
        from synthetic.scenario_file import parse_scenario

        dgm = context.study.scenarios[mechanism]
        scenario = parse_scenario(
            context.tables[mechanism], source=dgm.name, name=dgm.scenario_path().stem
        )
        if len(_PREPARED) >= 8:
            _PREPARED.clear()
        _PREPARED[key] = (scenario, Plan.build(scenario, context.study))
    return _PREPARED[key]


@dataclass(frozen=True)
class ChunkTask:
    mechanism: int
    reps: tuple[int, ...]


@dataclass
class StudyResult:
    out: Path
    estimates: pd.DataFrame
    estimands: pd.DataFrame
    performance: pd.DataFrame
    failures: pd.DataFrame
    new_reps: int
    resumed_reps: int
    chunk_timings: list


def run_chunk(context: Context, task: ChunkTask):
    """Simulate and analyse the task's replicates; returns (estimates, timing)."""
    from threadpoolctl import threadpool_limits

    from synthetic import simulate_cohort

    started = time.perf_counter()
    study = context.study
    dgm = study.scenarios[task.mechanism]
    fits = dict.fromkeys(study.methods, 0.0)
    simulate = prepare = 0.0
    records = []
    with _ONE_CHUNK_AT_A_TIME, threadpool_limits(limits=1):
        scenario, plan = _prepared(context, task.mechanism)
        for rep in task.reps:
            t0 = time.perf_counter()
            cohort = simulate_cohort(
                scenario, dgm.n, replicate_seed(study.seed, task.mechanism, rep)
            )
            t1 = time.perf_counter()
            frame = analysis_frame(cohort)
            t2 = time.perf_counter()
            simulate += t1 - t0
            prepare += t2 - t1
            for name, options in study.methods.items():
                t3 = time.perf_counter()
                rows = METHODS[name].function(frame, plan, options)
                fits[name] += time.perf_counter() - t3
                records += [(dgm.name, rep, name, *row) for row in rows]
    estimates = pd.DataFrame.from_records(records, columns=ESTIMATE_COLUMNS)
    estimates["rep"] = estimates["rep"].astype(np.int64)
    timing = {
        "reps": len(task.reps),
        "simulate": simulate,
        "prepare": prepare,
        "fit": fits,
        "total": time.perf_counter() - started,
    }
    return estimates, timing


def plan_chunks(todo: dict[int, list[int]], chunk_size: int) -> list[ChunkTask]:
    tasks = []
    for mechanism, reps in todo.items():
        run: list[int] = []
        for rep in reps:
            if run and (rep != run[-1] + 1 or len(run) == chunk_size):
                tasks.append(ChunkTask(mechanism, tuple(run)))
                run = []
            run.append(rep)
        if run:
            tasks.append(ChunkTask(mechanism, tuple(run)))
    return tasks


def run_study(
    study: StudyDefinition,
    out: str | Path,
    *,
    workers: int = 1,
    dask=None,
    progress: Callable[[int], None] | None = None,
    on_start: Callable[[int, int], None] | None = None,
    on_chunk: Callable[[ChunkTask], None] | None = None,
    summarise: bool = True,
) -> StudyResult:
    """Run (or resume) ``study``, storing estimates in ``out/estimates.parquet``.

    ``workers`` > 1 runs chunks on that many joblib processes; ``dask`` is
    "local" (a LocalCluster of ``workers`` processes, default 2), a scheduler
    address, or a ``distributed.Client``. ``on_start(todo, done)`` is called
    with the replicate counts before work starts, ``progress(k)`` after each
    stored chunk of k replicates, ``on_chunk(task)`` after it too (raising
    there stops the study; stored chunks stay). With ``summarise`` the truth,
    performance.csv, failures.csv, estimands.csv and coverage.png are written.
    Raises ``StudyMismatchError`` when ``out`` holds a different study.
    """
    from . import executors

    out = Path(out)
    tables = study.mechanism_tables()
    fingerprint = study.fingerprint(tables)
    for i, dgm in enumerate(study.scenarios):
        # validate the estimands against every scenario before any work
        Plan.build(dgm.load(f"{study.source} scenarios[{i}]"), study, f" scenarios[{i}]")
    store = EstimateStore(out)
    with store.lock():
        store.open(fingerprint, study.identity(tables), study.describe())
        done = store.completed()
        todo = {
            d: [r for r in range(study.reps) if r not in done.get(d, set())]
            for d in range(len(study.scenarios))
        }
        n_todo = sum(len(v) for v in todo.values())
        n_done = sum(len([r for r in v if r < study.reps]) for v in done.values())
        if on_start is not None:
            on_start(n_todo, n_done)
        n_parallel = workers if dask is None else max(workers, 2)
        size = study.chunk_size or _default_chunk_size(n_todo, len(todo), n_parallel)
        tasks = plan_chunks(todo, size)
        context = Context(study, tuple(tables), fingerprint)
        with _executor(executors, context, tasks, workers, dask) as results:
            for task, (frame, timing) in results:
                store.write(frame, fingerprint, task.mechanism, task.reps, timing)
                if progress is not None:
                    progress(len(task.reps))
                if on_chunk is not None:
                    on_chunk(task)
        estimates = store.read()
        estimates = estimates[estimates["rep"] < study.reps].reset_index(drop=True)
        # (rows beyond a lowered ``reps`` stay on disk but are not part of this study)
        result = StudyResult(out, estimates, None, None, None, n_todo, n_done, [])
        result.chunk_timings = [c["timing"] for c in store.chunks()]
        if summarise:
            _summarise(study, store, result)
    return result


def _default_chunk_size(n_todo: int, n_mechanisms: int, workers: int) -> int:
    per_mechanism = max(1, n_todo // max(n_mechanisms, 1))
    return max(1, min(_MAX_CHUNK, math.ceil(per_mechanism / (6 * workers))))


class _executor:
    """Context manager yielding the (task, result) stream, closing any cluster it made."""

    def __init__(self, executors, context, tasks, workers, dask):
        self.args = (executors, context, tasks, workers, dask)
        self._client = None

    def __enter__(self):
        executors, context, tasks, workers, dask = self.args
        if dask is not None:
            self._client = executors.dask_client(dask, workers if workers > 1 else None)
            client = self._client.__enter__()
            self._stream = executors.dask_cluster(run_chunk, context, tasks, client)
        elif workers > 1:
            self._stream = executors.joblib_workers(run_chunk, context, tasks, workers)
        else:
            self._stream = executors.serial(run_chunk, context, tasks)
        return self._stream

    def __exit__(self, *exc):
        self._stream.close()
        if self._client is not None:
            return self._client.__exit__(*exc)
        return False


def study_estimands(study: StudyDefinition, store: EstimateStore | None = None) -> pd.DataFrame:
    """The estimands of every mechanism with their true values (cached in the store)."""
    cached = store.read_table("estimands") if store is not None else None
    if cached is not None:
        return cached
    tables = []
    for i, dgm in enumerate(study.scenarios):
        scenario = dgm.load(f"{study.source} scenarios[{i}]")
        plan = Plan.build(scenario, study)
        fine_gray_sites = tuple(plan.log_hr) if "fine_gray" in study.methods else ()
        tables.append(estimand_table(scenario, plan, study, i, fine_gray_sites))
    table = pd.concat(tables, ignore_index=True)
    if store is not None:
        store.write_table("estimands", table)
    return table


def _summarise(study: StudyDefinition, store: EstimateStore, result: StudyResult) -> None:
    from .plots import coverage_plot

    estimates = result.estimates
    result.estimands = study_estimands(study, store)
    result.performance = performance(estimates, result.estimands, study.level)
    result.failures = failure_summary(estimates)
    out = store.out
    result.estimands.to_csv(out / "estimands.csv", index=False, float_format="%.17g")
    result.performance.to_csv(out / "performance.csv", index=False, float_format="%.10g")
    result.failures.to_csv(out / "failures.csv", index=False)
    if result.performance["cover"].notna().any():  # methods without SEs have none
        figure = coverage_plot(result.performance, level=study.level)
        figure.savefig(out / "coverage.png", dpi=110)
