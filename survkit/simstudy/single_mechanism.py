"""Running a study with one data-generating mechanism: the multi-state and the
prediction-performance studies share it (``run_study`` handles several mechanisms).

The store is opened under the study's fingerprint, the replicates not yet in it
run in chunks (serially or on joblib workers, each chunk under one BLAS thread
in the chunk function), and the summary (estimands, performance measures,
failures) is computed once and written beside the estimates.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from .performance import failure_summary
from .runner import StudyResult, plan_chunks
from .store import EstimateStore


def run_single_mechanism(
    out: Path,
    study,
    kind: str,
    chunk_fn: Callable,
    context: tuple,
    workers: int,
    build_estimands: Callable[[], pd.DataFrame] | None,
    measure: Callable[[pd.DataFrame, pd.DataFrame], pd.DataFrame],
) -> StudyResult:
    """Run (or resume) ``study``'s replicates into ``out``; ``kind`` names the study
    in the store's definition; ``build_estimands`` None skips the summary."""
    from . import executors

    fingerprint = study.fingerprint()
    store = EstimateStore(out)
    with store.lock():
        store.open(fingerprint, study.identity(), {kind: dataclasses.asdict(study)})
        done = store.completed().get(0, set())
        todo = [r for r in range(study.reps) if r not in done]
        size = study.chunk_size or max(1, min(25, math.ceil(len(todo) / (6 * max(workers, 1)))))
        tasks = plan_chunks({0: todo}, size)
        if workers > 1:
            stream = executors.joblib_workers(chunk_fn, context, tasks, workers)
        else:
            stream = executors.serial(chunk_fn, context, tasks)
        try:
            for task, (frame, timing) in stream:
                store.write(frame, fingerprint, task.mechanism, task.reps, timing)
        finally:
            stream.close()
        estimates = store.read()
        estimates = estimates[estimates["rep"] < study.reps].reset_index(drop=True)
        n_done = len([r for r in done if r < study.reps])
        result = StudyResult(out, estimates, None, None, None, len(todo), n_done, [])
        result.chunk_timings = [c["timing"] for c in store.chunks()]
        if build_estimands is not None:
            estimands = store.read_table("estimands")
            if estimands is None:
                estimands = build_estimands()
                store.write_table("estimands", estimands)
            result.estimands = estimands
            result.performance = measure(estimates, estimands)
            result.failures = failure_summary(estimates)
            estimands.to_csv(out / "estimands.csv", index=False, float_format="%.17g")
            result.performance.to_csv(out / "performance.csv", index=False, float_format="%.10g")
            result.failures.to_csv(out / "failures.csv", index=False)
    return result
