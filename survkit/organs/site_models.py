"""One call, every organ: cause-specific Cox and Fine-Gray models per relapse site.

``fit_sites`` fits, for each site (event code), a cause-specific Cox model
(competing events censored: the organ's hazard among those still event-free)
and/or a Fine-Gray model (its cumulative incidence), and lays every
coefficient out in one tidy table with Benjamini-Hochberg adjusted p-values.
Sites with too few events are skipped with a warning and listed.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.base import clone
from statsmodels.stats.multitest import multipletests

from ..data.validation import check_choice, check_columns, check_dataframe, encode_events
from ..models.coxnet import CoxNet
from ..models.coxph import CoxPH
from ..models.fine_gray_net import FineGrayNet

__all__ = ["MODEL_KINDS", "SiteFits", "fit_sites"]

MODEL_KINDS = ("cause_specific", "fine_gray")


@dataclass
class SiteFits:
    """Result of ``fit_sites``.

    ``table``: one row per (site, model, covariate) with coef, HR, lower, upper,
    se, z, p and p_adj. ``p_adj`` is Benjamini-Hochberg over every site x
    covariate test of the same model kind (cause-specific and Fine-Gray answer
    different questions, so each is its own family). ``models[(site, model)]``
    is each fitted estimator; ``skipped`` lists sites not fitted (site,
    events, reason); ``events`` counts events per site.
    """

    table: pd.DataFrame
    models: dict = field(default_factory=dict)
    skipped: pd.DataFrame = field(default_factory=pd.DataFrame)
    events: pd.Series = field(default_factory=pd.Series)


def fit_sites(
    df: pd.DataFrame,
    duration_col: str,
    event_col: str,
    formula: str | list[str],
    sites: Sequence[object] | None = None,
    models: Sequence[str] = MODEL_KINDS,
    censor_value: object = 0,
    min_events: int = 10,
    conf_level: float = 0.95,
    ties: str = "efron",
    tol: float | None = None,
    max_iter: int | None = None,
    penalizer: float | str | CoxNet | FineGrayNet | None = None,
    l1_ratio: float = 1.0,
) -> SiteFits:
    """Fit per-organ models in one call.

    ``sites``: the event codes to model (default: every code but
    ``censor_value``, in sorted order; a competing event such as "death" is
    then a site too, so pass the organs explicitly to leave it out). Each
    site's model treats every other code as a competing event. ``models``:
    any of "cause_specific" (``CoxPH(ties=ties)``) and "fine_gray"
    (``FineGray``). A site with fewer than ``min_events`` events is skipped with
    a ``UserWarning`` saying how many it has. ``tol``/``max_iter`` override the
    estimators' convergence settings (their own defaults otherwise).

    ``penalizer`` makes the models penalised (``CoxNet`` for the cause-specific
    and ``FineGrayNet`` for the Fine-Gray models, for many covariates per organ): a
    number is a fixed lambda, ``"cv"`` picks lambda_1se by 10-fold cross-validation
    of the (pseudo-)partial-likelihood deviance (folds seeded, seed 0), and a
    ``CoxNet`` or ``FineGrayNet`` instance is used as configured (cloned per site)
    for the models of its kind. ``l1_ratio`` is the elastic-net mix for the first
    two (1 = lasso). The table then has models ``"cause_specific_penalized"`` and
    ``"fine_gray_penalized"`` with coef and HR only: a penalised fit has no valid
    Wald standard errors, so se, z, p, limits and p_adj are NaN.
    """
    check_dataframe(df)
    check_columns(df, {"duration_col": [duration_col], "event_col": [event_col]})
    models = [models] if isinstance(models, str) else list(models)
    if not models:
        raise ValueError(f"models is empty; pass one or more of {MODEL_KINDS}.")
    for kind in models:
        check_choice(kind, MODEL_KINDS, "models")
    if int(min_events) != min_events or min_events < 1:
        raise ValueError(f"min_events={min_events!r} must be a positive integer.")
    if not 0 < conf_level < 1:
        raise ValueError(f"conf_level={conf_level!r} must be between 0 and 1.")
    penalized = _penalized_template(penalizer, l1_ratio, ties, models)
    first = _any_code(df, event_col, censor_value)
    present = list(encode_events(df[event_col], event_col, first, censor_value).labels)
    if sites is None:
        sites = present
    sites = list(sites)
    absent = [s for s in sites if s not in present]
    if absent:
        raise ValueError(
            f"sites {absent} never occur in column {event_col!r} (event codes present: "
            f"{present}); pass codes from the data."
        )
    values = df[event_col].to_numpy()
    counts = pd.Series({s: int(np.sum(values == s)) for s in sites}, name="events")

    fine_gray = None
    if "fine_gray" in models:
        from ..models.fine_gray import FineGray as fine_gray

    options = {"conf_level": conf_level}
    options.update({k: v for k, v in (("tol", tol), ("max_iter", max_iter)) if v is not None})
    pieces, fitted, skipped = [], {}, []
    for site in sites:
        n_ev = int(counts[site])
        if n_ev < min_events:
            warnings.warn(
                f"site {site!r} has {n_ev} event(s), fewer than min_events={min_events}; "
                "it is skipped (see .skipped).",
                UserWarning,
                stacklevel=2,
            )
            reason = f"fewer than {min_events} events"
            skipped.append({"site": site, "events": n_ev, "reason": reason})
            continue
        for kind in models:
            try:
                if penalized is not None:
                    est = clone(penalized[kind]).fit(
                        df,
                        duration_col=duration_col,
                        event_col=event_col,
                        formula=formula,
                        cause=site,
                        censor_value=censor_value,
                    )
                elif kind == "cause_specific":
                    est = CoxPH(ties=ties, **options).fit(
                        df,
                        duration_col=duration_col,
                        event_col=event_col,
                        formula=formula,
                        cause=site,
                        censor_value=censor_value,
                    )
                else:
                    est = fine_gray(**options).fit(
                        df,
                        duration_col=duration_col,
                        event_col=event_col,
                        cause=site,
                        formula=formula,
                        censor_value=censor_value,
                    )
            except ValueError as exc:
                raise ValueError(f"site {site!r}, {kind} model: {exc}") from exc
            fitted[(site, kind)] = est
            pieces.append(_coefficient_rows(est, site, kind, conf_level))

    columns = ["site", "model", "covariate", "coef", "HR", "lower", "upper", "se", "z", "p"]
    table = pd.concat(pieces, ignore_index=True) if pieces else pd.DataFrame(columns=columns)
    table["p_adj"] = np.nan
    for _, idx in table.groupby("model", sort=False).groups.items():
        if table.loc[idx, "p"].notna().all():
            table.loc[idx, "p_adj"] = multipletests(table.loc[idx, "p"], method="fdr_bh")[1]
    return SiteFits(
        table=table,
        models=fitted,
        skipped=pd.DataFrame(skipped, columns=["site", "events", "reason"]),
        events=counts,
    )


def _any_code(df: pd.DataFrame, event_col: str, censor_value: object) -> object:
    """A code other than the censoring code, so ``encode_events`` lists every label."""
    if censor_value is not None and pd.api.types.is_scalar(censor_value) and pd.isna(censor_value):
        raise ValueError(
            f"censor_value={censor_value!r} is a missing value; pass the code that marks "
            "censoring (e.g. 0 or 'censored')."
        )
    for v in pd.unique(df[event_col]):
        # missing codes are refused by encode_events, with a count
        if not pd.isna(v) and v != censor_value:
            return v
    raise ValueError(
        f"event column {event_col!r} holds only the censoring code {censor_value!r}; "
        "there are no events to model."
    )


def _penalized_template(penalizer, l1_ratio, ties, models):
    """Per model kind, the estimator each site's penalised model is cloned from
    (None: unpenalised models)."""
    if penalizer is None:
        return None
    if isinstance(penalizer, CoxNet):  # FineGrayNet is a CoxNet too
        kind = "fine_gray" if isinstance(penalizer, FineGrayNet) else "cause_specific"
        other = [m for m in models if m != kind]
        if other:
            raise ValueError(
                f"penalizer is a {type(penalizer).__name__}, which fits {kind!r} models, but "
                f"models also has {other}; pass models=[{kind!r}] or a number or 'cv'."
            )
        return {kind: penalizer}
    if isinstance(penalizer, str):
        if penalizer != "cv":
            raise ValueError(
                f"penalizer={penalizer!r}; use a lambda > 0, 'cv', a CoxNet or a FineGrayNet."
            )
        return {
            "cause_specific": CoxNet(l1_ratio=l1_ratio, ties=ties, cv=10, seed=0),
            "fine_gray": FineGrayNet(l1_ratio=l1_ratio, cv=10, seed=0),
        }
    if not np.isfinite(penalizer) or penalizer <= 0:
        raise ValueError(
            f"penalizer={penalizer!r} must be a lambda > 0, 'cv', a CoxNet or a FineGrayNet."
        )
    lam = [float(penalizer)]
    return {
        "cause_specific": CoxNet(l1_ratio=l1_ratio, ties=ties, lambdas=lam, select="last"),
        "fine_gray": FineGrayNet(l1_ratio=l1_ratio, lambdas=lam, select="last"),
    }


def _coefficient_rows(est, site: object, kind: str, conf_level: float) -> pd.DataFrame:
    if isinstance(est, CoxNet):
        b = est.params_.to_numpy()
        nan = np.full(b.shape, np.nan)
        return pd.DataFrame(
            {
                "site": site,
                "model": f"{kind}_penalized",
                "covariate": list(est.params_.index),
                "coef": b,
                "HR": np.exp(b),
                "lower": nan,
                "upper": nan,
                "se": nan,
                "z": nan,
                "p": nan,
            }
        )
    b = est.params_.to_numpy()
    se = est.standard_errors_.to_numpy()
    zc = stats.norm.ppf((1 + conf_level) / 2)
    z = b / se
    return pd.DataFrame(
        {
            "site": site,
            "model": kind,
            "covariate": list(est.params_.index),
            "coef": b,
            "HR": np.exp(b),
            "lower": np.exp(b - zc * se),
            "upper": np.exp(b + zc * se),
            "se": se,
            "z": z,
            "p": 2 * stats.norm.sf(np.abs(z)),
        }
    )
