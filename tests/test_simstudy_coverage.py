"""Coverage of cause-specific Cox on a correctly specified scenario.

The default scenario's bone relapses follow a proportional cause-specific
hazard in every design term (no bone effect changes over time), so the bone
Cox model is correctly specified and its 95 % Wald intervals should cover.

Design (the seed was not tuned): n = 2000 patients (about 270 bone relapses in
the scenarios of issue 17, 25 per coefficient, so the Wald intervals are close
to nominal: at n = 1000
the model SEs ran about 5 % small, which makes a nominal-coverage test flaky
rather than meaningful), R = 300 replicates, seed 20240607, serial. For each
of the 11 bone log hazard ratios, coverage must lie in its Monte Carlo
interval under nominal coverage,

    0.95 ± z sqrt(0.95 · 0.05 / R),  z = Φ⁻¹(1 - 0.05 / (2 · 11)) = 2.84,

i.e. [0.914, 0.986] at R = 300: Bonferroni over the 11 estimands, so a correct
method fails this test with probability at most 5 %. The headline estimand
(bone TGF-β2) must also sit in the unadjusted 95 % interval 0.95 ± 1.96
sqrt(0.95 · 0.05 / R) = [0.925, 0.975]. A wrong standard error (variance for
SE, a factor off) or a wrong truth or seed handling breaks these by a wide
margin. Bias is not asserted: the Cox MLE's small-sample bias (about 1 % of
β here) is a couple of Monte Carlo SEs at this R.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from survkit.simstudy import (
    DataGeneratingMechanism,
    EstimandSpec,
    StudyDefinition,
    nominal_coverage_interval,
    run_study,
)

REPS = 300


@pytest.mark.slow
def test_cause_specific_cox_covers_bone_log_hazard_ratios(tmp_path):
    study = StudyDefinition(
        scenarios=(DataGeneratingMechanism("breast_site_dormancy", n=2000),),
        reps=REPS,
        seed=20240607,
        methods={"cause_specific_cox": {}},
        estimands=EstimandSpec(log_hr_sites=("bone",), cif_times=(), reference_n=1000),
    )
    result = run_study(study, tmp_path)
    perf = result.performance.set_index("estimand")
    assert len(perf) == 11
    assert (perf["n_failed"] == 0).all() and (perf["n_ok"] == REPS).all()
    assert not perf["misspecified"].any()

    z_family = stats.norm.ppf(1 - 0.05 / (2 * len(perf)))
    low, high = nominal_coverage_interval(REPS, 0.95, z_family)
    assert (low, high) == pytest.approx((0.914, 0.986), abs=5e-4)
    outside = perf[(perf["cover"] < low) | (perf["cover"] > high)]
    assert outside.empty, outside[["cover", "cover_mcse"]]

    headline = perf.loc["log_hr[bone, bone_tgfb2_score, 0-inf]"]
    low, high = nominal_coverage_interval(REPS, 0.95, 1.96)
    assert low <= headline["cover"] <= high
    assert np.isfinite(perf[["bias_mcse", "relerror_mcse", "cover_mcse"]]).all().all()
