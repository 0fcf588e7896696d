"""The report's time horizons and time words: chosen from the data, in the data's unit.

Fixed horizons (2, 5, 10) crash a cohort followed 8 years and read as "by 10
days" on data in days. Unless the user gives them, the horizons are the
quartiles of follow-up (25th, 50th, 75th percentiles of the observed times)
rounded to a conventional value of the time unit (whole years, months that
are multiples of years or quarters, round numbers of days), each at most the
longest follow-up, strictly increasing.
"""

from __future__ import annotations

import numpy as np

__all__ = ["check_horizons", "choose_horizons", "unit_word"]

_YEARS = [0.25, 0.5, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 15, 20, 25, 30, 40, 50]
_MONTHS = [1, 3, 6, 9, 12, 18, 24, 30, 36, 48, 60, 72, 84, 96, 120, 144, 180, 240, 300, 360, 480]
_WEEKS = [1, 2, 4, 8, 13, 26, 39, 52, 78, 104, 156, 208, 260, 520]
_ALIASES = {
    "years": ("y", "yr", "yrs", "year", "years"),
    "months": ("m", "mo", "month", "months"),
    "weeks": ("w", "wk", "week", "weeks"),
    "days": ("d", "day", "days"),
}


def unit_word(unit: str) -> str:
    """'years', 'months', 'weeks', 'days', or the user's own word."""
    u = str(unit).strip().lower()
    for word, aliases in _ALIASES.items():
        if u in aliases:
            return word
    return str(unit).strip()


def _round_numbers(lo: float, hi: float) -> list[float]:
    """1, 1.5, 2, 2.5, 3, 4, 5, 6, 7.5, 8 times powers of ten between lo and hi."""
    out = []
    for k in range(int(np.floor(np.log10(lo))) - 1, int(np.ceil(np.log10(hi))) + 1):
        out += [m * 10.0**k for m in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 7.5, 8)]
    return sorted(v for v in out if lo <= v <= hi)


def _candidates(unit: str, t_max: float) -> list[float]:
    table = {"years": _YEARS, "months": _MONTHS, "weeks": _WEEKS}.get(unit_word(unit))
    values = table if table is not None else _round_numbers(t_max / 1e4, t_max)
    return [float(v) for v in values if 0 < v <= t_max]


def choose_horizons(times, unit: str, quantiles=(0.25, 0.5, 0.75)) -> tuple[float, ...]:
    """Quartiles of follow-up rounded to conventional values of ``unit`` (see module doc)."""
    t = np.asarray(times, dtype=float)
    t = t[np.isfinite(t) & (t > 0)]
    if t.size == 0:
        raise ValueError("no positive follow-up times: cannot choose horizons; pass --horizons.")
    t_max = float(t.max())
    candidates = _candidates(unit, t_max)
    if not candidates:
        return (float(np.quantile(t, 0.5)),)
    chosen: list[float] = []
    for q in np.quantile(t, quantiles):
        free = [c for c in candidates if not chosen or c > chosen[-1]]
        if not free:
            break
        chosen.append(min(free, key=lambda c: abs(np.log(c / q))))
    return tuple(chosen)


def check_horizons(horizons, times, unit: str) -> tuple[float, ...]:
    """User-given horizons: positive, increasing, within follow-up (ValueError otherwise)."""
    h = [float(v) for v in horizons]
    if not h:
        raise ValueError("--horizons is empty; give e.g. --horizons 1,3,5.")
    t_max = float(np.nanmax(np.asarray(times, dtype=float)))
    bad = [v for v in h if not (0 < v <= t_max)]
    if bad:
        raise ValueError(
            f"--horizons {bad} lie outside the follow-up (0, {t_max:g}] {unit_word(unit)}; "
            "choose horizons within the follow-up, or leave --horizons out to choose them "
            "from the data."
        )
    return tuple(sorted(set(h)))


def format_time(value: float) -> str:
    """A time without spurious decimals: 5, 2.5, 1826."""
    return f"{value:g}" if abs(value) < 1e6 else f"{value:.4g}"
