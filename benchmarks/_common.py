"""Shared helpers for the benchmarks: timing, R invocation, table printing."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable


def median_time(fn: Callable[[], object], repeats: int) -> tuple[float, object]:
    """Median wall time of ``repeats`` calls (after one untimed warm-up call)."""
    result = fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def have_r() -> bool:
    return shutil.which("Rscript") is not None


def run_r(script: str, timeout: float = 3600) -> str:
    """Run an R script and return its stdout (raises on failure)."""
    with tempfile.NamedTemporaryFile("w", suffix=".R", delete=False) as fh:
        fh.write(script)
        path = fh.name
    try:
        out = subprocess.run(
            ["Rscript", "--vanilla", path], capture_output=True, text=True, timeout=timeout
        )
    finally:
        os.unlink(path)
    if out.returncode != 0:
        raise RuntimeError(f"Rscript failed:\n{out.stderr[-2000:]}")
    return out.stdout


def print_table(rows: list[dict], columns: list[str]) -> None:
    widths = {c: max(len(c), *(len(_fmt(r.get(c))) for r in rows)) for c in columns}
    print("  ".join(c.rjust(widths[c]) for c in columns))
    for r in rows:
        print("  ".join(_fmt(r.get(c)).rjust(widths[c]) for c in columns))


def _fmt(v: object) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.3g}" if abs(v) < 1000 else f"{v:.0f}"
    return str(v)


def parse_r_timings(text: str) -> dict:
    """R benchmark output, one ``name seconds value value ...`` line per measurement,
    as {name: (seconds, values)}."""
    import numpy as np

    out = {}
    for line in text.strip().splitlines():
        parts = line.split()
        if parts:
            out[parts[0]] = (float(parts[1]), np.array([float(v) for v in parts[2:]]))
    return out
