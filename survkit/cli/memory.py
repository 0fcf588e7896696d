"""Refuse a cohort size that cannot fit in memory, up front, with the estimate.

The bytes per patient were measured (peak resident memory, default scenario):
simulating about 260 B per patient, the whole report about 12 kB per patient
above a fixed ~300 MB; a simulation study holds one cohort and its fits per
worker. The estimates are rounded up, and a run is refused only when the
estimate exceeds the memory the machine has available.
"""

from __future__ import annotations

import os

import click

BYTES_PER_PATIENT = {"simulate": 400, "report": 16_000, "simstudy": 16_000}
FIXED_BYTES = 300 * 2**20


def available_memory() -> int | None:
    """Bytes available (MemAvailable on Linux, else physical memory), None if unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def _size(n_bytes: float) -> str:
    for unit in ("B", "kB", "MB", "GB", "TB", "PB"):
        if n_bytes < 1024 or unit == "PB":
            return f"{n_bytes:.3g} {unit}"
        n_bytes /= 1024
    return f"{n_bytes:.3g} PB"


def check_memory(n: int | None, command: str, copies: int = 1, available: int | None = None):
    """UsageError when ``n`` patients (times ``copies`` workers) cannot fit in memory."""
    if n is None:
        return
    need = FIXED_BYTES + copies * n * BYTES_PER_PATIENT[command]
    have = available_memory() if available is None else available
    if have is not None and need > have:
        raise click.UsageError(
            f"--n {n} needs about {_size(need)} of memory for {command} "
            f"({_size(BYTES_PER_PATIENT[command])} per patient"
            + (f" x {copies} workers" if copies > 1 else "")
            + f"); this machine has {_size(have)} available. Use a smaller --n."
        )
