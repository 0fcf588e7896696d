"""The multi-state report: what happens after the first relapse.

``report_for_multistate`` analyses a simulated multi-state scenario (default:
the built-in ``breast_site_dormancy_progression``, n = 4000, seed 1) or a
``MultiStateData`` the user built: transitions observed (table and diagram),
state occupation over time (stacked plot, table with standard errors),
per-transition Cox hazard ratios of the microenvironment covariates, and the
test "does the first organ change what comes next?". On a synthetic scenario
each estimate stands beside its truth. The report is rendered and written by
the same machinery as the main report (``write_atomically``).

Covariate names are data: they are always passed to the models as lists,
never joined into a formula.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from ..multistate import (
    MultiStateCox,
    MultiStateData,
    overview_tables,
    read_histories,
    state_occupation,
    transition_matrix,
)
from ..plots.figures import new_figure
from ..plots.multistate import plot_state_occupation, plot_transition_diagram
from .analysis import software_table
from .content import Figure, Report, Section, Table
from .horizons import check_horizons, choose_horizons, format_time
from .multistate_checks import no_events_level, true_log_hr
from .multistate_origin import GENERIC_TITLE, ORIGIN_TITLE, origin_section, origin_tests

__all__ = ["DEFAULT_MULTISTATE_SCENARIO", "report_for_multistate"]

DEFAULT_MULTISTATE_SCENARIO = "breast_site_dormancy_progression"
HR_TITLE = "Per-transition hazard ratios: microenvironment covariates"
PLAIN_HR_TITLE = "Per-transition hazard ratios"  # no covariate named after a state
_WITHIN_SE = 4.0  # an estimate further than this many SE from the truth is flagged


def _dummies(hist: pd.DataFrame, covariates: list[str]) -> tuple[pd.DataFrame, list[str], dict]:
    """Categorical covariates as 0/1 columns against their first level.

    Returns the histories with the columns added, the model columns, and
    model column -> the truth table's term name (``subtype[T.her2]``).
    """
    columns, term = [], {}
    for c in covariates:
        col = hist[c]
        if isinstance(col.dtype, pd.CategoricalDtype) or col.dtype == object:
            levels = list(col.cat.categories) if hasattr(col, "cat") else sorted(col.unique())
            for level in levels[1:]:
                name = f"{c}_{level}"
                if name in hist.columns:
                    raise ValueError(f"column {name!r} already exists; rename it first.")
                hist[name] = (col == level).astype(float)
                columns.append(name)
                term[name] = f"{c}[T.{level}]"
        else:
            columns.append(c)
            term[c] = c
    return hist, columns, term


def _estimable_terms(data: MultiStateData, columns: list[str]) -> tuple[dict, list[str]]:
    """Covariates per transition, leaving out those of a transition whose own Cox model
    cannot be fitted (too few events, a covariate constant on its rows): the report
    then still shows every other transition. Returns (mapping, notes on the left-out)."""
    tm = data.transitions
    counts = data.counts().set_index("trans")["n"]
    terms, thin = {}, []
    for k in range(1, tm.n_transitions + 1):
        try:
            MultiStateCox().fit(data, {k: columns})
        except (ValueError, np.linalg.LinAlgError) as exc:
            n = int(counts.loc[k])
            thin.append(f"{tm.label(k)} ({n} event{'' if n == 1 else 's'}: {exc})")
        else:
            terms[k] = columns
    if not terms:
        raise ValueError(
            f"covariates: no transition can be fitted with {columns}: {'; '.join(thin)}."
        )
    return terms, thin


def _microenvironment(columns: list[str], states) -> list[str]:
    """Covariates named after an organ state (``bone_tgfb2_score``): the microenvironment."""
    prefixes = tuple(f"{s}_" for s in states)
    return [c for c in columns if c.startswith(prefixes)]


def _transitions_section(data: MultiStateData, generic: bool = False) -> Section:
    counts = data.counts()
    n = data.histories["id"].nunique()
    first = data.transitions.states[0]
    later = counts[counts["from"] != first]
    return Section(
        "Transitions observed",
        [
            f"{n} patients start in '{first}'. {int(counts['n'].sum())} transitions were "
            f"observed, {int(later['n'].sum())} of them "
            f"{f'after leaving {first!r}' if generic else 'after a first relapse'}. A transition "
            "with few events gives imprecise hazard ratios below.",
        ],
        tables=[Table("transitions", counts.set_index("trans"), "Transitions observed")],
        figures=[
            Figure(
                "transition_diagram",
                plot_transition_diagram(data),
                "States and allowed transitions; the number on each arrow is the number "
                "of transitions observed.",
            )
        ],
    )


def _stacked(occ_curve: pd.DataFrame, unit: str):
    """The stacked occupation plot, wide enough to read, to the last follow-up time."""
    fig, axes = new_figure(1, width=6.5, height=3.6)
    plot_state_occupation(occ_curve, ax=axes[0])
    axes[0].set_xlim(0, float(occ_curve["time"].max()))
    axes[0].set_xlabel(f"time ({unit})")
    return fig


def _relapse_states_figure(occ_curve, data: MultiStateData, unit: str, generic: bool = False):
    """P(state at t) of the relapse states alone: thin bands in the stacked plot."""
    tm = data.transitions
    middle = [s for s in tm.states[1:] if not tm.is_absorbing(s)]
    fig, axes = new_figure(1, width=6.5, height=3.2)
    for k, state in enumerate(middle, start=1):
        rows = occ_curve[occ_curve["state"] == state]
        axes[0].step(rows["time"], rows["pstate"], where="post", color=f"C{k}", label=state)
    axes[0].set_xlabel(f"time ({unit})")
    axes[0].set_ylabel("probability in state")
    axes[0].set_xlim(0, float(occ_curve["time"].max()))
    axes[0].set_ylim(bottom=0)
    axes[0].legend(frameon=False, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return Figure(
        "relapse_states",
        fig,
        "The intermediate states alone (not stacked): probability of being in each state "
        "that patients pass through."
        if generic
        else "The relapse states alone (not stacked): probability of being alive with the "
        "latest relapse in each organ.",
    )


def _occupation_section(
    occ_curve, occ_table, times, truth, unit, data, semi=False, generic=False
) -> Section:
    table = occ_table.rename(columns={"pstate": "estimate", "std_err": "SE"})
    paragraphs = [
        "Aalen-Johansen estimate of the probability of being in each state at time t "
        "(infinitesimal-jackknife standard errors, as R's multi-state survfit).",
    ]
    if truth is not None:
        true = truth.stack().rename("true").rename_axis(["time", "state"]).reset_index()
        table = table.merge(true, on=["time", "state"], how="left")
        # an estimate with SE 0 (nobody observed in the state any more) has no z
        zero = table["SE"].to_numpy() == 0
        with np.errstate(divide="ignore", invalid="ignore"):
            z = (table["estimate"] - table["true"]) / table["SE"]
        table["(estimate - true) / SE"] = np.where(zero, np.nan, z)
        worst = float(np.nanmax(np.abs(table["(estimate - true) / SE"])))
        how = (
            "numerical convolution over the time since entering each state (some transitions "
            "run on a clock reset at entry: semi-Markov, where the Kolmogorov equations do not "
            "apply; the Aalen-Johansen estimate of occupation stays consistent)"
            if semi
            else "the Kolmogorov forward equations"
        )
        paragraphs.append(
            f"True occupation: {how}, solved for every patient of the cohort and averaged. "
            f"Largest |estimate - true| / SE: {worst:.2f}"
            + (
                f" ({int(zero.sum())} estimate(s) with SE 0, where nobody is observed in "
                "the state, have no ratio)."
                if zero.any()
                else "."
            )
        )
    return Section(
        "State occupation over time",
        paragraphs,
        tables=[
            Table(
                "occupation",
                table.set_index(["time", "state"]),
                f"P(state at t) at {', '.join(format_time(t) for t in times)} {unit}",
                digits=4,
            )
        ],
        figures=[
            Figure(
                "state_occupation",
                _stacked(occ_curve, unit),
                "State occupation, stacked: the bands add up to 1 at every time.",
            ),
            _relapse_states_figure(occ_curve, data, unit, generic=generic),
        ],
    )


def model_clock(later) -> tuple[str, frozenset]:
    """The Cox models' clock for a scenario's later transitions, and the transitions
    whose truth is on another clock (not checked against the fit).

    All on a clock reset at entry: the models use that clock too (first relapses
    start at 0, where both clocks agree). Otherwise time since diagnosis, and any
    reset transition's true log HRs belong to another model.
    """
    clock = "reset" if later and all(t.clock == "reset" for t in later) else "forward"
    off = frozenset((t.origin, t.target) for t in later if t.clock != clock)
    return clock, off


def _unconverged_note(summary) -> str:
    if "converged" not in summary.columns or summary["converged"].all():
        return ""
    bad = summary.loc[~summary["converged"].astype(bool)]
    pairs = sorted({f"{a} -> {b}" for a, b in zip(bad["from"], bad["to"], strict=True)})
    return (
        f" {len(bad)} estimate(s) of transitions whose fit did not converge (monotone "
        f"likelihood: {', '.join(pairs)}) are shown but not checked."
    )


def _time_scale(generic: bool, clock: str) -> str:
    if clock == "reset":
        return "time since entering the transition's origin state (clock reset, as the scenario)"
    return "time since time 0 of the data" if generic else "time since diagnosis"


def _hazard_ratio_section(
    data,
    summary,
    shown,
    adjusted,
    truth,
    term,
    organ_covariates=True,
    clock="forward",
    off_clock=frozenset(),
) -> tuple[Section, bool | None]:
    table = summary[["from", "to", "covariate", "exp(coef)", "lower 0.95", "upper 0.95", "p"]]
    table = table.rename(columns={"exp(coef)": "HR", "lower 0.95": "lower", "upper 0.95": "upper"})
    table.insert(3, "log HR", summary["coef"])
    table.insert(4, "SE", summary["se"])
    consistent = None
    blocked = no_events_level(data, summary)
    for col in ["log HR", "SE", "HR", "lower", "upper", "p"]:
        table[col] = table[col].where([not b for b in blocked], np.nan)
    values = [
        (
            float("nan"),
            "its true hazard runs on the clock reset at entry, the model's on "
            "time since diagnosis: not comparable",
        )
        if (r["from"], r["to"]) in off_clock
        else (
            float("nan"),
            "its transition's fit did not converge (monotone likelihood: an estimate "
            "heading to infinity), so it is not checked",
        )
        if truth is not None and not r.get("converged", True)
        else true_log_hr(truth, term, r)
        for _, r in summary.iterrows()
    ]
    if truth is not None:
        table["true log HR"] = [v for v, _ in values]
        table["within 4 SE"] = [
            abs(b - v) <= _WITHIN_SE * se if np.isfinite(v) and not no else np.nan
            for b, se, (v, _), no in zip(
                summary["coef"], summary["se"], values, blocked, strict=True
            )
        ]
        checked = table["within 4 SE"].dropna()
        consistent = bool(checked.astype(bool).all())
    table["note"] = [
        "; ".join(w for w in (no, why) if w) for no, (_, why) in zip(blocked, values, strict=True)
    ]
    table = table.set_index(["from", "to", "covariate"])
    micro = table[table.index.get_level_values("covariate").isin(shown)]
    paragraphs = [
        "Transition-specific Cox models (one stratum per transition, Breslow ties, robust "
        "standard errors clustered on the patient, as R's multi-state coxph) on the time scale "
        f"{_time_scale(truth is None, clock)}. "
        f"Each transition is adjusted for {', '.join(adjusted)}; "
        + (
            "the table shows the microenvironment covariates, tables/hazard_ratios.csv has "
            "every coefficient."
            if organ_covariates
            else "the table shows every coefficient (also in tables/hazard_ratios.csv)."
        ),
    ]
    if consistent is not None:
        n_checked = int(table["within 4 SE"].notna().sum())
        n_out = int((table["within 4 SE"] == False).sum())  # noqa: E712 (NaN: not checked)
        paragraphs.append(
            f"Against the truth: {n_checked - n_out} of {n_checked} estimates (all covariates) "
            f"lie within {_WITHIN_SE:g} SE of the true log HR; effects that change over time "
            "(a double agent) have no single true value and are not checked."
            + _unconverged_note(summary)
        )
    section = Section(
        HR_TITLE if organ_covariates else PLAIN_HR_TITLE,
        paragraphs,
        tables=[
            Table(
                "hazard_ratios",
                micro,
                "Hazard ratio per transition (per unit of the covariate), 95% CI",
                csv=table,
            )
        ],
    )
    return section, consistent


def _guarded(title: str, step: Callable[[], Section], checks: dict) -> Section:
    """A section, or one that says why it could not be estimated."""
    try:
        return step()
    except (ValueError, np.linalg.LinAlgError) as exc:
        checks.setdefault("skipped_sections", []).append(title)
        return Section(title, [f"This section could not be estimated and is skipped: {exc}"])


def report_for_multistate(
    source: str | MultiStateData = DEFAULT_MULTISTATE_SCENARIO,
    n: int = 4000,
    seed: int = 1,
    covariates: list[str] | None = None,
    times: tuple | None = None,
    time_unit: str = "years",
    command: str = "",
    progress: Callable[[str], None] | None = None,
    label: str | None = None,
) -> Report:
    """The multi-state report on a scenario name / TOML path (simulated with ``n``,
    ``seed``) or on a ``MultiStateData`` (``label`` names it in the report).

    ``covariates``: model columns (a list; default: the scenario's covariates,
    required for data). ``times``: occupation horizons (default: from the
    follow-up).
    """
    note = progress or (lambda _name: None)
    cohort = None
    if isinstance(source, MultiStateData):
        data, label = source, label or "multi-state data"
        if covariates is None:
            raise ValueError("covariates: give the model columns as a list, e.g. ['age'].")
    else:
        from synthetic.multistate import simulate_multistate

        cohort = simulate_multistate(source, n=n, seed=seed)
        tm = transition_matrix(cohort.states, cohort.pairs)
        data = read_histories(cohort.histories(), tm, id_col="patient_id")
        covariates = cohort.covariates if covariates is None else covariates
        label = f"synthetic scenario '{source}' (n = {n}, seed = {seed})"
    covariates = list(covariates)
    hist, columns, term = _dummies(data.histories.copy(), covariates)
    added = tuple(c for c in columns if c not in data.histories.columns)
    data = replace(data, histories=hist, covariates=(*data.covariates, *added))
    stops = data.histories["tstop"]
    times = (
        choose_horizons(stops, time_unit)
        if times is None
        else check_horizons(times, stops, time_unit)
    )
    checks: dict = {"source": label}
    note("estimates")
    cox_terms, thin = _estimable_terms(data, columns)
    if thin:
        checks["transitions_without_covariates"] = thin
    clock, off_clock = model_clock(cohort.scenario.transitions if cohort is not None else ())
    tables = overview_tables(data, columns, times, cox_covariates=cox_terms, clock=clock)
    truth = cohort.truth if cohort is not None else None
    note("transitions")
    sections = [
        _guarded("Transitions observed", lambda: _transitions_section(data, cohort is None), checks)
    ]
    note("state occupation")
    true_occ = cohort.true_occupation(times) if cohort is not None else None
    sections.append(
        _guarded(
            "State occupation over time",
            lambda: _occupation_section(
                state_occupation(data),
                tables["occupation"],
                times,
                true_occ,
                time_unit,
                data,
                semi=cohort is not None
                and any(t.clock == "reset" for t in cohort.scenario.transitions),
                generic=cohort is None,
            ),
            checks,
        )
    )
    note("hazard ratios")
    summary = tables["hazard_ratios"]
    micro = _microenvironment(columns, data.transitions.states)
    found: dict = {}

    def hazard_ratios() -> Section:
        section, found["consistent"] = _hazard_ratio_section(
            data,
            summary,
            micro or columns,
            covariates,
            truth,
            term,
            organ_covariates=bool(micro),
            clock=clock,
            off_clock=off_clock,
        )
        if thin:
            section.paragraphs.append(
                "Fitted without covariates (their effects cannot be estimated): "
                + "; ".join(thin)
                + "."
            )
        return section

    sections.append(_guarded(HR_TITLE if micro else PLAIN_HR_TITLE, hazard_ratios, checks))
    if found.get("consistent") is not None:
        checks["truth_consistent"] = found["consistent"]
    note("origin")
    generic = cohort is None  # the user's states: no organ wording, the start is an origin

    def origins() -> Section:
        tests = origin_tests(data, columns) if generic else tables["origin_tests"]
        checks["origin_tests"] = tests.to_dict(orient="records")
        return origin_section(data, tests, columns, cohort, generic=generic)

    sections.append(_guarded(GENERIC_TITLE if generic else ORIGIN_TITLE, origins, checks))
    sections.append(_methods(label, command, time_unit))
    return Report(
        "survkit multi-state report",
        f"{label}: {'multi-state analysis' if generic else 'after the first relapse'}",
        sections,
        checks,
    )


def _methods(label: str, command: str, unit: str) -> Section:
    return Section(
        "Methods and reproducibility",
        [
            "State occupation: Aalen-Johansen with infinitesimal-jackknife standard errors "
            "(R survival's multi-state survfit). Transition hazards: Cox models stratified by "
            "transition, Breslow ties, robust variance clustered on the patient (R's "
            "coxph(..., id=, istate=)). Origin test: Cox model on the transitions into one state "
            "with origin indicators, robust Wald test. Numbers checked against R survival 3.5.",
            f"Data: {label}. Time unit: {unit}.",
            f"Command: {command}",
            f"Generated {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}.",
        ],
        tables=[software_table()],
    )
