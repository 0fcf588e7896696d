"""synthetic: cohorts of site-specific metastatic relapse with known truth.

Each organ k has a cause-specific relapse hazard α0_k(t) · exp(β_k(t)' x) with a
dormancy-shaped baseline H0_k(t) = -log(1 - π_k F_k(t)); death from other
causes is Gompertz; censoring is administrative plus drop-out. Effects may
differ in sign between organs and may change sign over time ("double agents").

    from synthetic import load_scenario, simulate_cohort
    cohort = simulate_cohort(load_scenario("breast_site_dormancy"), n=5000, seed=1)
    cohort.data      # patient_id, covariates, time, event
    cohort.truth     # site, covariate, start, end, log_hr
    cohort.true_cif([1, 5, 10])

    # fit seeding fractions (and dormancy time scales) to published numbers
    fitted = calibrate("breast_site_dormancy", [
        {"site": "bone", "cumulative_incidence": 0.08, "at_years": 10},
        {"site": "bone", "median_years": 4.0, "within_years": 15},
    ])
    fitted.table; fitted.write("bone_calibrated.toml")

Modules: ``distributions`` (baselines and their inverses), ``covariates``
(Gaussian copula), ``scenario`` (hazard model, exact inversion),
``scenario_file`` (TOML validation; ``covariate_file`` and ``site_file`` for
covariates and organs, ``toml_checker`` for messages), ``dormancy_mixture``
(two-mode or long-tailed dormancy),
``targets`` and ``calibration`` (fitting organs to published numbers, with
``scenario_writer`` writing the result), ``simulate`` (cohorts, seeding, why the
construction is exact), ``truth`` (effect table, cumulative incidence),
``fine_gray`` (the Fine & Gray 1999 design).
"""

from synthetic.calibration import Calibration, calibrate
from synthetic.fine_gray import FineGrayDesign, fine_gray_design
from synthetic.scenario import Scenario
from synthetic.scenario_file import DEFAULT_SCENARIO, list_scenarios, load_scenario
from synthetic.simulate import Cohort, simulate_cohort
from synthetic.targets import Target, read_targets

__all__ = [
    "DEFAULT_SCENARIO",
    "Calibration",
    "Cohort",
    "FineGrayDesign",
    "Scenario",
    "Target",
    "calibrate",
    "fine_gray_design",
    "list_scenarios",
    "load_scenario",
    "read_targets",
    "simulate_cohort",
]
