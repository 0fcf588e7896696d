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

Modules: ``distributions`` (baselines and their inverses), ``covariates``
(Gaussian copula), ``scenario`` (hazard model, exact inversion),
``scenario_file`` (TOML validation), ``simulate`` (cohorts, seeding, why the
construction is exact), ``truth`` (effect table, cumulative incidence),
``fine_gray`` (the Fine & Gray 1999 design).
"""

from synthetic.fine_gray import FineGrayDesign, fine_gray_design
from synthetic.scenario import Scenario
from synthetic.scenario_file import DEFAULT_SCENARIO, list_scenarios, load_scenario
from synthetic.simulate import Cohort, simulate_cohort

__all__ = [
    "DEFAULT_SCENARIO",
    "Cohort",
    "FineGrayDesign",
    "Scenario",
    "fine_gray_design",
    "list_scenarios",
    "load_scenario",
    "simulate_cohort",
]
