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
    MultiStateData,
    overview_tables,
    read_histories,
    state_occupation,
    transition_matrix,
)
from ..multistate.origin import origin_effect
from ..plots.figures import new_figure
from ..plots.multistate import plot_state_occupation, plot_transition_diagram
from .analysis import software_table
from .content import Figure, Report, Section, Table
from .horizons import check_horizons, choose_horizons, format_time
from .multistate_checks import no_events_level, true_log_hr, true_origin_log_hr
from .spec import Z95

__all__ = ["DEFAULT_MULTISTATE_SCENARIO", "report_for_multistate"]

DEFAULT_MULTISTATE_SCENARIO = "breast_site_dormancy_progression"
HR_TITLE = "Per-transition hazard ratios: microenvironment covariates"
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


def _microenvironment(columns: list[str], states) -> list[str]:
    """Covariates named after an organ state (``bone_tgfb2_score``): the microenvironment."""
    prefixes = tuple(f"{s}_" for s in states)
    return [c for c in columns if c.startswith(prefixes)]


def _transitions_section(data: MultiStateData) -> Section:
    counts = data.counts()
    n = data.histories["id"].nunique()
    first = data.transitions.states[0]
    later = counts[counts["from"] != first]
    return Section(
        "Transitions observed",
        [
            f"{n} patients start in '{first}'. {int(counts['n'].sum())} transitions were "
            f"observed, {int(later['n'].sum())} of them after a first relapse. A transition "
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


def _relapse_states_figure(occ_curve: pd.DataFrame, data: MultiStateData, unit: str):
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
        "The relapse states alone (not stacked): probability of being alive with the "
        "latest relapse in each organ.",
    )


def _occupation_section(occ_curve, occ_table, times, truth, unit, data, semi=False) -> Section:
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
            _relapse_states_figure(occ_curve, data, unit),
        ],
    )


def _hazard_ratio_section(
    data, summary, shown, adjusted, truth, term
) -> tuple[Section, bool | None]:
    table = summary[["from", "to", "covariate", "exp(coef)", "lower 0.95", "upper 0.95", "p"]]
    table = table.rename(columns={"exp(coef)": "HR", "lower 0.95": "lower", "upper 0.95": "upper"})
    table.insert(3, "log HR", summary["coef"])
    table.insert(4, "SE", summary["se"])
    consistent = None
    blocked = no_events_level(data, summary)
    for col in ["log HR", "SE", "HR", "lower", "upper", "p"]:
        table[col] = table[col].where([not b for b in blocked], np.nan)
    values = [true_log_hr(truth, term, r) for _, r in summary.iterrows()]
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
        f"time since diagnosis. Each transition is adjusted for {', '.join(adjusted)}; the "
        "table shows the microenvironment covariates, tables/hazard_ratios.csv has every "
        "coefficient.",
    ]
    if consistent is not None:
        n_checked = int(table["within 4 SE"].notna().sum())
        n_out = int((table["within 4 SE"] == False).sum())  # noqa: E712 (NaN: not checked)
        paragraphs.append(
            f"Against the truth: {n_checked - n_out} of {n_checked} estimates (all covariates) "
            f"lie within {_WITHIN_SE:g} SE of the true log HR; effects that change over time "
            "(a double agent) have no single true value and are not checked."
        )
    section = Section(
        HR_TITLE,
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


def _origin_section(data, tests, covariates, cohort=None) -> Section:
    bullets, tables = [], []
    for row in tests.itertuples(index=False):
        table, _ = origin_effect(
            data, row.target, covariates, origins=[o.strip() for o in row.origins.split(",")]
        )
        hr = np.exp(table["coef"])
        parts = [
            f"from {o} rather than from {row.reference}: HR {h:.2f} "
            f"(95% CI {np.exp(b - Z95 * s):.2f}-{np.exp(b + Z95 * s):.2f})"
            for o, h, b, s in zip(table["origin"], hr, table["coef"], table["se"], strict=True)
        ]
        verdict = (
            "the organ a patient came from changes the hazard"
            if row.p_value < 0.05
            else "no evidence that the organ a patient came from changes the hazard"
        )
        bullets.append(
            f"Entering {row.target} {'; '.join(parts)}. Test of no difference: Wald "
            f"{row.statistic:.2f} on {row.df} df, p = {row.p_value:.2g}: {verdict} "
            "(at the 5% level)."
        )
        shown = table.assign(HR=hr)
        if cohort is not None:
            true = [
                true_origin_log_hr(cohort, row.target, o, row.reference) for o in shown["origin"]
            ]
            shown["true log HR"] = [v for v, _ in true]
            shown["within 4 SE"] = [
                abs(b - v) <= _WITHIN_SE * se if np.isfinite(v) else np.nan
                for b, se, (v, _) in zip(shown["coef"], shown["se"], true, strict=True)
            ]
            shown["note"] = [why for _, why in true]
        tables.append(
            Table(
                f"origin_{row.target}",
                shown.set_index("origin"),
                f"Entering {row.target}: log HR by origin versus {row.reference}",
            )
        )
    if tests.empty:
        return Section(
            "Does the first organ change what comes next?",
            ["No state is entered from two or more relapse states: there is nothing to compare."],
        )
    return Section(
        "Does the first organ change what comes next?",
        [
            "For every state entered from two or more relapse states, a Cox model of the "
            "transitions into it with a shared baseline (time since diagnosis), shared covariate "
            "effects and one hazard ratio per origin state; robust Wald test that all origins "
            "have the same hazard."
            + (
                " The scenario's true log HR by origin stands beside each estimate where its "
                "hazards by origin are proportional (else there is no single true value)."
                if cohort is not None
                else ""
            ),
        ],
        bullets=bullets,
        tables=[
            Table("origin_tests", tests.set_index("target"), "Tests of equal hazard by origin"),
            *tables,
        ],
    )


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
) -> Report:
    """The multi-state report on a scenario name / TOML path (simulated with ``n``,
    ``seed``) or on a ``MultiStateData``.

    ``covariates``: model columns (a list; default: the scenario's covariates,
    required for data). ``times``: occupation horizons (default: from the
    follow-up).
    """
    note = progress or (lambda _name: None)
    cohort = None
    if isinstance(source, MultiStateData):
        data, label = source, "multi-state data"
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
    tables = overview_tables(data, columns, times)
    truth = cohort.truth if cohort is not None else None
    note("transitions")
    sections = [_guarded("Transitions observed", lambda: _transitions_section(data), checks)]
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
            data, summary, micro or columns, covariates, truth, term
        )
        return section

    sections.append(_guarded(HR_TITLE, hazard_ratios, checks))
    if found.get("consistent") is not None:
        checks["truth_consistent"] = found["consistent"]
    note("origin")
    checks["origin_tests"] = tables["origin_tests"].to_dict(orient="records")
    sections.append(
        _guarded(
            "Does the first organ change what comes next?",
            lambda: _origin_section(data, tables["origin_tests"], columns, cohort),
            checks,
        )
    )
    sections.append(_methods(label, command, time_unit))
    return Report(
        "survkit multi-state report",
        f"{label}: after the first relapse",
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
