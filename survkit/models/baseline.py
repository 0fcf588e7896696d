"""Baseline cumulative hazard of a Cox fit, per stratum, and its evaluation.

The hazard increment at each distinct stop time is the one the fit used
(Breslow: d_w / S0; Efron: sum_k wbar / (S0 - k/d D0)), which is what R's
``survfit.coxph`` uses for a fit with the same ties. It refers to x = 0 and
zero offset, as ``basehaz(fit, centered = FALSE)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..data.survival_data import row_strata_labels
from ..engine.risk_set import Evaluation, RiskSetProblem

__all__ = ["BaselineHazard"]


@dataclass
class BaselineHazard:
    labels: list[str]  # one per stratum; ["baseline"] without strata
    times: list[np.ndarray]  # ascending distinct stop times per stratum
    cumhaz: list[np.ndarray]

    @classmethod
    def from_fit(
        cls, problem: RiskSetProblem, ev: Evaluation, strata_labels: list[str]
    ) -> BaselineHazard:
        # hazards are for centred x = 0; move the reference to x = 0
        scale = float(np.exp(-ev.beta @ problem.center)) if problem.center.size else 1.0
        times, cumhaz = [], []
        for s in range(problem.n_strata):
            g0, g1 = problem.strat_gptr[s], problem.strat_gptr[s + 1]
            t = problem.grp_time[g0:g1][::-1]
            h = ev.hazard[g0:g1][::-1] * scale
            times.append(t.copy())
            cumhaz.append(np.cumsum(h))
        labels = strata_labels if strata_labels else ["baseline"]
        return cls(labels=labels, times=times, cumhaz=cumhaz)

    def table(self) -> pd.DataFrame:
        """Index: every distinct time; one column per stratum (step functions)."""
        all_times = np.unique(np.concatenate(self.times))
        cols = {}
        for label, t, H in zip(self.labels, self.times, self.cumhaz, strict=True):
            cols[label] = _step(t, H, all_times)
        return pd.DataFrame(cols, index=pd.Index(all_times, name="time"))

    def strata_codes_for(self, df: pd.DataFrame, strata_cols: list[str]) -> np.ndarray:
        if not strata_cols:
            return np.zeros(len(df), dtype=np.int64)
        from ..data.validation import check_columns

        check_columns(df, {"strata": strata_cols})
        lookup = {label: k for k, label in enumerate(self.labels)}
        labels = row_strata_labels(df, strata_cols)
        unknown = sorted({lab for lab in labels if lab not in lookup})
        if unknown:
            raise ValueError(
                f"{len(unknown)} stratum value(s) in the new data were not in the fit "
                f"({', '.join(unknown[:5])}); strata seen at fit time: {', '.join(self.labels)}."
            )
        return np.array([lookup[lab] for lab in labels], dtype=np.int64)

    def check_times(self, times: np.ndarray, codes: np.ndarray) -> np.ndarray:
        """``times`` as floats; ValueError if negative, missing or beyond the follow-up
        of any stratum in ``codes`` (predictions there would be extrapolation)."""
        times = np.asarray(times, dtype=float)
        if np.isnan(times).any() or (times < 0).any():
            n_bad = int(np.isnan(times).sum() + (times < 0).sum())
            raise ValueError(f"times has {n_bad} negative or missing value(s); use times >= 0.")
        for s in np.unique(codes):
            last = self.times[s][-1]
            beyond = times > last
            if beyond.any():
                raise ValueError(
                    f"times has {int(beyond.sum())} value(s) beyond the last follow-up time "
                    f"{last:g} of stratum {self.labels[s]!r}; predictions there would be "
                    f"extrapolation. Use times within [0, {last:g}]."
                )
        return times

    def at(self, times: np.ndarray, codes: np.ndarray) -> np.ndarray:
        """Cumulative hazard at ``times`` for rows in strata ``codes``: (len(times), n)."""
        times = self.check_times(times, codes)
        out = np.empty((times.shape[0], codes.shape[0]))
        for s in np.unique(codes):
            out[:, codes == s] = _step(self.times[s], self.cumhaz[s], times)[:, None]
        return out


def _step(t: np.ndarray, H: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Right-continuous step function with value 0 before its first time."""
    idx = np.searchsorted(t, at, side="right") - 1
    return np.where(idx >= 0, H[np.clip(idx, 0, None)], 0.0)
