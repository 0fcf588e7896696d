"""The cohort section: the role of every event code, follow-up, and Table 1."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .content import Section, Table
from .spec import ReportSpec


def _reverse_km_median(time: np.ndarray, censored: np.ndarray) -> float:
    # median follow-up by the reverse Kaplan-Meier (censoring as the event)
    order = np.argsort(time, kind="stable")
    ts, cs = time[order], censored[order]
    at_risk = len(ts) - np.arange(len(ts))
    surv = np.cumprod(1 - cs / at_risk)
    below = np.flatnonzero(surv <= 0.5)
    return float(ts[below[0]]) if below.size else np.nan


def roles_table(spec: ReportSpec) -> pd.DataFrame:
    """One row per event code: its name, role, how the role was set, and its count."""
    codes = spec.df[spec.event_col].astype(object)
    counts = codes.value_counts()
    rows = []
    for code in [spec.censor_value, *spec.organs, *spec.competing]:
        if code == spec.censor_value:
            role, how = "censoring", "censoring code"
        elif code in spec.competing:
            role, how = "competing event", "named competing"
        else:
            role = spec.kind if spec.organ_data else "event of interest"
            how = "named" if spec.roles_stated else "not named: treated as of interest"
        n = int(counts.get(code, 0))
        rows.append(
            {
                "code": str(code),
                "name": spec.label(code),
                "role": role,
                "role set by": how,
                "patients": n,
                "percent": 100 * n / len(spec.df),
            }
        )
    return pd.DataFrame(rows).set_index("code")


def _numeric_cell(values: pd.Series, skewed: bool) -> str:
    v = values.dropna().astype(float)
    if not len(v):
        return ""
    if skewed:
        q1, med, q3 = np.quantile(v, [0.25, 0.5, 0.75])
        return f"{med:.3g} [{q1:.3g}, {q3:.3g}]"
    return f"{v.mean():.3g} ({v.std(ddof=1):.3g})" if len(v) > 1 else f"{v.mean():.3g}"


def table_one(spec: ReportSpec, raw: pd.DataFrame) -> pd.DataFrame:
    """Covariate summaries overall and by first event; missing counts (rows excluded)."""
    groups = {"all": raw}
    events = raw[spec.event_col].astype(object)
    for code in [*spec.organs, *spec.competing, spec.censor_value]:
        name = "censored" if code == spec.censor_value else spec.label(code)
        if (events == code).any():
            groups[name] = raw[events == code]
    header = {g: f"{g} (n = {len(d)})" for g, d in groups.items()}
    rows: list[tuple[str, str, dict]] = []
    for term in spec.design.terms:
        covs = spec.design.of_term(term)
        kind = covs[0].kind
        cells: dict[tuple[str, str], dict] = {}
        for g, d in groups.items():
            col = d[term]
            if kind == "numeric":
                # mean (SD) for roughly symmetric covariates, median [IQR] for skewed ones
                skewed = abs(float(raw[term].dropna().astype(float).skew())) > 1
                stat = "median [IQR]" if skewed else "mean (SD)"
                cells.setdefault((term, stat), {})[header[g]] = _numeric_cell(col, skewed)
            elif kind == "binary":
                k = int((col == 1).sum())
                cells.setdefault((f"{term} = 1", "n (%)"), {})[header[g]] = (
                    f"{k} ({100 * k / max(len(d), 1):.1f}%)"
                )
            else:
                levels = [covs[0].reference] + [c.level for c in covs]
                for level in levels:
                    k = int((col == level).sum())
                    ref = " (reference)" if level == covs[0].reference else ""
                    cells.setdefault((f"{term}: {level}{ref}", "n (%)"), {})[header[g]] = (
                        f"{k} ({100 * k / max(len(d), 1):.1f}%)"
                    )
            missing = int(col.isna().sum())
            if int(raw[term].isna().sum()):
                cells.setdefault((term, "missing (excluded)"), {})[header[g]] = str(missing)
        rows += [(k[0], k[1], v) for k, v in cells.items()]
    table = pd.DataFrame([v for _, _, v in rows], columns=list(header.values()))
    table.index = pd.MultiIndex.from_tuples(
        [(a, b) for a, b, _ in rows], names=["covariate", "summary"]
    )
    return table.fillna("")


def cohort_section(spec: ReportSpec, raw: pd.DataFrame) -> Section:
    df = spec.df
    codes = df[spec.event_col].astype(object)
    counts = codes.value_counts()
    n = len(df)
    censored = (codes == spec.censor_value).to_numpy()
    median_fu = _reverse_km_median(df[spec.duration_col].to_numpy(float), censored)
    spec.checks["median_follow_up"] = median_fu
    n_interest = int(sum(counts.get(o, 0) for o in spec.organs))
    first = "first distant relapses" if spec.organ_data else "first events of interest"
    paras = [
        f"{n} patients from {spec.source}. Median follow-up {spec.at(median_fu)} "
        f"(reverse Kaplan-Meier). {n_interest} {first} ("
        + ", ".join(f"{spec.label(o)}: {int(counts.get(o, 0))}" for o in spec.organs)
        + ")"
        + (
            "; competing first events: "
            + ", ".join(f"{spec.label(c)}: {int(counts.get(c, 0))}" for c in spec.competing)
            if spec.competing
            else "; no competing events"
        )
        + f"; {int(censored.sum())} censored."
    ]
    if not spec.roles_stated:
        paras.append(
            "No event code was named as a competing event, so every code other than the "
            "censoring code is analysed as an event of interest. If one of them (death, say) "
            "ends follow-up for the others, name it: survkit report ... --competing CODE "
            "(report_for_data(competing=[CODE]) in Python); --label CODE=NAME names a code."
        )
    paras += spec.notes
    tables = [Table("event_roles", roles_table(spec), "Event codes and their roles", digits=1)]
    tables.append(
        Table(
            "table_one",
            table_one(spec, raw),
            "Table 1: covariates overall and by first event (reference levels marked)",
        )
    )
    return Section("Cohort", paras, tables=tables)
