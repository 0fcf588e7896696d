"""The methods a study compares, as a registry: name -> options and a function.

Each method gets one replicate's analysis frame (design columns named like
``Cohort.truth``'s covariates, ``time``, ``event``) and the mechanism's
``Plan``, and returns rows ``(estimand, estimate, se, status, reason,
misspecified)``. Models always adjust for every design term, so a model is
correctly specified whenever its form allows.

- ``cause_specific_cox``: one proportional-hazards ``CoxPH(cause=site)`` per
  site. For an effect that is piecewise in truth (a double agent) its single
  coefficient is reported against every piece with ``misspecified = True``:
  that is the bias of ignoring the change point. (Only that term is flagged;
  the same model's other coefficients are estimated under a misspecified
  model too, harmlessly here because the double agent is independent of them.)
- ``time_split_cox``: the same model on episodes split at the site's true
  change points (R's ``survSplit``), with one coefficient per piece for each
  piecewise term (an oracle split). Only sites with change points.
- ``fine_gray``: ``FineGray(cause=site)``; its subdistribution log-HRs
  (against the least-false truth, see ``estimands``) and the population
  cumulative incidence as the mean of its per-patient predictions (no
  standard error, so no coverage).
- ``aalen_johansen``: nonparametric cumulative incidence with cmprsk's
  variance.

A fit unit (one model) that raises ``ValueError``/``LinAlgError``/an
arithmetic error, warns ``ConvergenceWarning``, ends with ``converged_``
False, has fewer than ``min_events`` events, or gives a non-finite estimate
becomes ``status = "failed"`` rows for all its estimands, with the reason.
Any other exception is a bug and stops the study (finished chunks are kept).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning

from ..data.episodes import split_episodes
from ..models.coxph import CoxPH
from ..models.fine_gray import FineGray
from ..nonparametric.aalen_johansen import aalen_johansen as estimate_cif
from .estimand_ids import cif_id, sd_log_hr_id

CENSORED = "censored"
_RECOVERABLE = (ValueError, ArithmeticError, np.linalg.LinAlgError)


class FitFailure(Exception):
    """A replicate's fit that the study records as failed (with this reason)."""


@dataclass(frozen=True)
class Method:
    function: Callable
    defaults: dict
    summary: str


def _check_ties(value):
    return value in ("efron", "breslow")


def _check_min_events(value):
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


_OPTION_CHECKS = {
    "ties": (_check_ties, 'use "efron" or "breslow"'),
    "min_events": (_check_min_events, "give a non-negative integer"),
}


def method_options(name: str, options, source: str) -> dict:
    """Validated options of one method, defaults filled in."""
    if name not in METHODS:
        raise ValueError(
            f"{source}: methods.{name} is not a known method; use some of {sorted(METHODS)}"
        )
    if not isinstance(options, dict):
        raise ValueError(f"{source}: methods.{name} is not a table; write [methods.{name}]")
    defaults = METHODS[name].defaults
    resolved = dict(defaults)
    for key, value in options.items():
        if key not in defaults:
            allowed = sorted(defaults) or "none"
            raise ValueError(
                f"{source}: methods.{name}.{key} is not an option of {name}; options: {allowed}"
            )
        check, fix = _OPTION_CHECKS[key]
        if not check(value):
            raise ValueError(f"{source}: methods.{name}.{key} = {value!r} is invalid; {fix}")
        resolved[key] = value
    return resolved


# ------------------------------------------------------------------ helpers
def analysis_frame(cohort) -> pd.DataFrame:
    """Design columns (named like truth's covariates) plus ``time`` and ``event``."""
    from synthetic.truth import design_from_data

    columns = design_from_data(cohort.scenario, cohort.data, centered=False)
    columns["time"] = cohort.data["time"].to_numpy()
    columns["event"] = cohort.data["event"].array
    # one constructor call: inserting columns one by one costs more than the data
    return pd.DataFrame(columns, copy=False)


def _attempt(fit):
    """(fit(), None), or (None, reason) when the fit unit failed."""
    value, reason = None, None
    caught = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            value = fit()
    except FitFailure as failure:
        reason = str(failure)
    except _RECOVERABLE as error:
        reason = f"{type(error).__name__}: {error}"
    convergence = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    for w in caught:
        if w not in convergence:  # not ours to swallow
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if convergence:  # the warning says more than converged_ = False
        return None, f"did not converge: {convergence[0].message}"
    return (value, None) if reason is None else (None, reason)


def _rows(targets, values, reason) -> list[tuple]:
    """``targets`` are (estimand, misspecified); ``values`` maps estimand ->
    (estimate, se or None for methods without one)."""
    if reason is None:
        bad = [
            ident
            for ident, (est, se) in values.items()
            if not np.isfinite(est) or (se is not None and not np.isfinite(se))
        ]
        if bad:
            reason = f"non-finite estimate or standard error for {bad[0]}"
    if reason is not None:
        return [(ident, np.nan, np.nan, "failed", reason, mis) for ident, mis in targets]
    rows = []
    for ident, mis in targets:
        est, se = values[ident]
        rows.append((ident, float(est), np.nan if se is None else float(se), "ok", "", mis))
    return rows


def _guarded(targets, fit) -> list[tuple]:
    return _rows(targets, *_attempt(fit))


def _require_events(count: int, minimum: int, what: str) -> None:
    if count < minimum:
        raise FitFailure(f"too few events: {count} {what} < min_events = {minimum}")


def _require_converged(model, what: str) -> None:
    if not model.converged_:
        raise FitFailure(f"did not converge: {what} (converged_ is False)")


def _events(frame: pd.DataFrame, cause: str) -> int:
    return int((frame["event"] == cause).sum())


# ------------------------------------------------------------------ methods
def cause_specific_cox(frame: pd.DataFrame, plan, options: dict) -> list[tuple]:
    rows = []
    for site, entries in plan.log_hr.items():
        targets = [(ident, len(pieces) > 1) for _, pieces in entries for *_, ident in pieces]

        def fit(site=site, entries=entries):
            _require_events(_events(frame, site), options["min_events"], f"{site} events")
            model = CoxPH(ties=options["ties"]).fit(
                frame,
                "time",
                "event",
                formula=list(plan.terms),
                cause=site,
                censor_value=CENSORED,
            )
            _require_converged(model, f"CoxPH for {site}")
            est, se = model.params_, model.standard_errors_
            return {
                ident: (est[term], se[term]) for term, pieces in entries for *_, ident in pieces
            }

        rows += _guarded(targets, fit)
    return rows


def time_split_cox(frame: pd.DataFrame, plan, options: dict) -> list[tuple]:
    rows = []
    for site, entries in plan.log_hr.items():
        cuts = plan.change_points[site]
        if not cuts:
            continue
        targets = [(ident, False) for _, pieces in entries for *_, ident in pieces]

        def fit(site=site, entries=entries, cuts=cuts):
            _require_events(_events(frame, site), options["min_events"], f"{site} events")
            split = split_episodes(
                frame,
                list(cuts),
                "time",
                "event",
                episode_col="__episode",
                censor_value=CENSORED,
                start_col="__entry",
            )
            entry, stop = split["__entry"].to_numpy(), split["time"].to_numpy()
            is_event = (split["event"] == site).to_numpy()
            columns, names = {}, {}
            for term in plan.terms:
                if term not in plan.piecewise[site]:
                    names[(term, 0.0)] = term
                    continue
                x = split[term].to_numpy()
                for start, end in plan.pieces[(site, term)]:
                    # split rows never straddle a cut, so each lies in one piece
                    inside = (entry >= start) & (stop <= end)
                    _require_events(
                        int(is_event[inside].sum()),
                        options["min_events"],
                        f"{site} events in [{start:g}, {end:g})",
                    )
                    name = f"{term}@[{start:g},{end:g})"
                    columns[name] = np.where(inside, x, 0.0)
                    names[(term, start)] = name
            design = pd.concat([split, pd.DataFrame(columns, index=split.index)], axis=1)
            formula = [names[key] for key in names]
            model = CoxPH(ties=options["ties"]).fit(
                design,
                "time",
                "event",
                formula=formula,
                entry_col="__entry",
                cause=site,
                censor_value=CENSORED,
            )
            _require_converged(model, f"time-split CoxPH for {site}")
            est, se = model.params_, model.standard_errors_
            out = {}
            for term, pieces in entries:
                for start, _, ident in pieces:
                    name = names[(term, start)]
                    out[ident] = (est[name], se[name])
            return out

        rows += _guarded(targets, fit)
    return rows


def fit_fine_gray(frame: pd.DataFrame, plan, site: str):
    """The Fine-Gray model every study uses (all design terms); also fits the
    least-false truth on the reference cohort."""
    model = FineGray().fit(
        frame, "time", "event", cause=site, formula=list(plan.terms), censor_value=CENSORED
    )
    _require_converged(model, f"FineGray for {site}")
    return model


def fine_gray(frame: pd.DataFrame, plan, options: dict) -> list[tuple]:
    rows = []
    sites = list(plan.log_hr) + [c for c in plan.cif_causes if c not in plan.log_hr]
    for site in sites:
        terms = [term for term, _ in plan.log_hr.get(site, ())]
        coef_targets = [(sd_log_hr_id(site, term), False) for term in terms]
        cif_targets = (
            [(cif_id(site, t), False) for t in plan.cif_times] if site in plan.cif_causes else []
        )

        def fit(site=site):
            _require_events(_events(frame, site), options["min_events"], f"{site} events")
            return fit_fine_gray(frame, plan, site)

        model, reason = _attempt(fit)
        coefs = None
        if model is not None:
            coefs = {
                sd_log_hr_id(site, term): (model.params_[term], model.standard_errors_[term])
                for term in terms
            }
        rows += _rows(coef_targets, coefs, reason)
        if not cif_targets:
            continue
        if model is None:
            rows += _rows(cif_targets, None, reason)
            continue

        def predict(site=site, model=model):
            cif = model.predict_cumulative_incidence(frame, list(plan.cif_times))
            mean = cif.to_numpy().mean(axis=1)
            return {cif_id(site, t): (m, None) for t, m in zip(plan.cif_times, mean, strict=True)}

        rows += _guarded(cif_targets, predict)
    return rows


def aalen_johansen(frame: pd.DataFrame, plan, options: dict) -> list[tuple]:
    targets = [(cif_id(c, t), False) for c in plan.cif_causes for t in plan.cif_times]
    if not targets:
        return []

    def fit():
        table = estimate_cif(
            frame[["time", "event"]],
            "time",
            "event",
            censor_value=CENSORED,
            times=list(plan.cif_times),
        )
        out = {}
        for cause, t, cif, var in table[["cause", "time", "cif", "variance"]].itertuples(
            index=False
        ):
            out[cif_id(cause, t)] = (cif, np.sqrt(var))
        missing = [ident for ident, _ in targets if ident not in out]
        if missing:
            raise FitFailure(f"no events of the cause for {missing[0]}")
        return out

    return _guarded(targets, fit)


METHODS: dict[str, Method] = {
    "cause_specific_cox": Method(
        cause_specific_cox,
        {"min_events": 10, "ties": "efron"},
        "proportional-hazards Cox per site (competing events censored)",
    ),
    "time_split_cox": Method(
        time_split_cox,
        {"min_events": 10, "ties": "efron"},
        "Cox per site on episodes split at the true change points, one coefficient per piece",
    ),
    "fine_gray": Method(
        fine_gray,
        {"min_events": 10},
        "Fine-Gray subdistribution hazards per site; cumulative incidence from its predictions",
    ),
    "aalen_johansen": Method(
        aalen_johansen, {}, "nonparametric cumulative incidence with cmprsk's variance"
    ),
}
