"""Cohort generator speed: simulate_cohort versus NumPy drawing the same raw numbers.

    python benchmarks/generator.py [--n 1000000] [--repeats 5]

The generator consumes, per patient, one standard normal per covariate (the
Gaussian copula), one standard exponential per cause (each organ and death)
plus one for drop-out, and one uniform for the accrual date. The baseline
draws exactly those counts, of the same kinds, from the same bit generator
(PCG64), in the same run; a second baseline draws the same total count as
uniforms. Times are medians of ``--repeats`` runs after a warm-up run.
Goal: simulate_cohort at most 15x the matched raw draws.

Memory: peak traced allocation (tracemalloc; NumPy and pandas buffers are
traced) of one simulate_cohort call at n/10 and n; linear memory means the
same bytes per patient at both sizes.
"""

from __future__ import annotations

import argparse
import os
import sys
import tracemalloc

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _common import median_time, print_table

from synthetic import load_scenario, simulate_cohort

GOAL = 15.0


def draw_counts(scenario) -> dict[str, int]:
    """Raw random numbers per patient, by kind, that simulate_cohort consumes."""
    return {
        "normal": len(scenario.covariates),
        "exponential": len(scenario.causes) + (scenario.censoring.dropout_rate > 0),
        "uniform": 1,
    }


def raw_draws(counts: dict[str, int], n: int, seed: int) -> None:
    rng = np.random.Generator(np.random.PCG64(seed))
    for _ in range(counts["normal"]):
        rng.standard_normal(n)
    for _ in range(counts["exponential"]):
        rng.standard_exponential(n)
    for _ in range(counts["uniform"]):
        rng.random(n)


def raw_uniforms(total: int, n: int, seed: int) -> None:
    rng = np.random.Generator(np.random.PCG64(seed))
    for _ in range(total):
        rng.random(n)


def peak_bytes(scenario, n: int) -> int:
    tracemalloc.start()
    cohort = simulate_cohort(scenario, n=n, seed=1)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del cohort
    return peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    n, repeats = args.n, max(5, args.repeats)

    scenario = load_scenario("breast_site_dormancy")
    counts = draw_counts(scenario)
    total = sum(counts.values())
    raw_time, _ = median_time(lambda: raw_draws(counts, n, 0), repeats)
    uniform_time, _ = median_time(lambda: raw_uniforms(total, n, 0), repeats)
    sim_time, cohort = median_time(lambda: simulate_cohort(scenario, n=n, seed=1), repeats)

    kinds = " + ".join(f"{k} {v}" for k, v in counts.items())
    print(
        f"n = {n:,} patients of {scenario.name!r}; per patient: {kinds} "
        f"({total} raw numbers); median of {repeats} runs\n"
    )
    rows = [
        {"what": "NumPy raw draws, same kinds", "seconds": raw_time, "ratio": 1.0},
        {
            "what": f"NumPy {total} uniforms/patient",
            "seconds": uniform_time,
            "ratio": uniform_time / raw_time,
        },
        {"what": "simulate_cohort", "seconds": sim_time, "ratio": sim_time / raw_time},
    ]
    print_table(rows, ["what", "seconds", "ratio"])
    verdict = "meets" if sim_time / raw_time <= GOAL else "MISSES"
    print(
        f"\nsimulate_cohort / raw draws = {sim_time / raw_time:.2f}x "
        f"({verdict} the {GOAL:.0f}x goal)"
    )
    counts_by_event = cohort.data["event"].value_counts().to_dict()
    print("events:", ", ".join(f"{k} {v:,}" for k, v in counts_by_event.items()))

    small = max(n // 10, 1)
    memory = [
        {
            "n": size,
            "peak MB": peak_bytes(scenario, size) / 1e6,
            "bytes/patient": peak_bytes(scenario, size) / size,
        }
        for size in (small, n)
    ]
    print("\npeak traced memory of one simulate_cohort call")
    print_table(memory, ["n", "peak MB", "bytes/patient"])


if __name__ == "__main__":
    main()
