"""The simulation harness runs multi-state methods (MultiStateCox, state_occupation).

The coverage check is stated before it was run: over 40 replicates of n = 5000,
for each of the 19 later-transition log hazard ratios the number of 95 %
intervals (robust SE) that miss the truth must lie inside the central
binomial(n_ok, 0.05) interval of probability 1 - 0.01 / 19 (Bonferroni over the
19 estimands: a correct estimator fails the test with probability below 1 %).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binom

from survkit.simstudy import MultiStateStudy, run_multistate_study
from survkit.simstudy.multistate_methods import ms_log_hr_id, pstate_id

from .test_simstudy_runner import assert_bit_identical

SMALL = MultiStateStudy(n=3000, reps=3, seed=11, times=(1.0, 4.0), reference_n=1000)


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    return run_multistate_study(SMALL, tmp_path_factory.mktemp("ms_small"))


def test_small_study_has_every_estimand_with_its_true_value(small):
    truth = small.estimands.set_index("estimand")
    # transition log-HRs: the scenario file's values (first organ bone and lung)
    assert truth.loc[ms_log_hr_id("bone", "liver", "liver_nk_activity"), "true_value"] == -0.5
    assert truth.loc[ms_log_hr_id("lung", "brain", "subtype[T.her2]"), "true_value"] == 0.8
    assert truth.loc[ms_log_hr_id("brain", "death", "age"), "true_value"] == 0.03
    assert (truth["kind"] == "ms_log_hr").sum() == 19
    # occupation: six states at two times, probabilities summing to one
    occ = truth[truth["kind"] == "pstate"]
    assert len(occ) == 12
    sums = occ.groupby("time")["true_value"].sum()
    np.testing.assert_allclose(sums, 1.0, atol=1e-7)
    assert (occ["true_value_mcse"] > 0).all()
    assert 0.9 < truth.loc[pstate_id("no_relapse", 1.0), "true_value"] < 1.0
    # every estimand has performance rows with the model SE's coverage
    perf = small.performance
    assert set(perf["estimand"]) == set(truth.index)
    assert (perf["n_reps"] == 3).all()
    ok = perf[perf["n_failed"] < 3]
    assert ok["cover"].notna().all() and ok["modelse"].gt(0).all()
    assert (perf["kind"] == "pstate").sum() == 12 and (perf["n_failed"] == 0).any()


def test_bit_identical_with_joblib_and_resumes(small, tmp_path):
    parallel = run_multistate_study(SMALL, tmp_path / "joblib", workers=2, summarise=False)
    assert_bit_identical(small.estimates, parallel.estimates)
    more = run_multistate_study(SMALL.__class__(**{**SMALL.__dict__, "reps": 4}), small.out)
    assert (more.new_reps, more.resumed_reps) == (1, 3)
    assert_bit_identical(more.estimates[more.estimates["rep"] < 3], small.estimates)


def test_refuses_bad_options_naming_them():
    with pytest.raises(ValueError, match="methods"):
        MultiStateStudy(methods=("cause_specific_cox",))
    with pytest.raises(ValueError, match="times"):
        MultiStateStudy(times=(3.0, -1.0))
    with pytest.raises(ValueError, match="n ="):
        MultiStateStudy(n=0)


def test_transition_log_hr_coverage_is_plausible(tmp_path):
    study = MultiStateStudy(n=5000, reps=40, seed=20261130, methods=("multistate_cox",))
    perf = run_multistate_study(study, tmp_path).performance
    assert len(perf) == 19
    # about 12 % of replicates at n = 5000 have no bone->brain relapse among basal
    # tumours (monotone likelihood); 12 of 40 would be far beyond that
    assert perf["n_failed"].max() <= 12, perf[["estimand", "n_failed"]]
    n_ok = (perf["n_reps"] - perf["n_failed"]).to_numpy()
    misses = np.rint((1 - perf["cover"].to_numpy(float)) * n_ok)
    alpha = 0.01 / len(perf)
    low = binom.ppf(alpha / 2, n_ok, 0.05)
    high = binom.isf(alpha / 2, n_ok, 0.05)
    inside = (misses >= low) & (misses <= high)
    assert inside.all(), perf.assign(misses=misses, low=low, high=high)[~inside]
