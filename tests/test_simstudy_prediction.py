"""The simulation harness scores prediction models (PredictionStudy): training,
validation and reference cohorts with known true risks, apparent / validation /
population performance, resumable and reproducible like the other studies."""

from __future__ import annotations

import dataclasses
import shutil

import numpy as np
import pytest

from survkit.simstudy import PredictionStudy, StudyMismatchError, run_prediction_study
from survkit.simstudy.prediction_methods import prediction_id

from .test_simstudy_runner import assert_bit_identical

SMALL = PredictionStudy(
    n=1200,
    n_validation=1000,
    reps=2,
    seed=7,
    horizons=(3.0, 8.0),
    methods=("true_risk", "fine_gray", "misspecified_cox"),
    reference_n=3000,
    chunk_size=1,
)


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    return run_prediction_study(SMALL, tmp_path_factory.mktemp("prediction_small"))


def _values(result, method, metric, t, sample):
    e = result.estimates
    rows = e[(e["method"] == method) & (e["estimand"] == prediction_id(metric, "bone", t, sample))]
    assert (rows["status"] == "ok").all(), rows["reason"].unique()
    return rows.sort_values("rep")[["estimate", "se"]].to_numpy()


def test_true_risk_beats_the_misspecified_model_and_is_calibrated(small):
    for t in SMALL.horizons:
        oracle = _values(small, "true_risk", "auc", t, "population")[:, 0]
        wrong = _values(small, "misspecified_cox", "auc", t, "population")[:, 0]
        fitted = _values(small, "fine_gray", "auc", t, "population")[:, 0]
        # bone relapse does not depend on age: the age-only model barely discriminates
        assert (oracle > fitted).all() and (fitted > wrong + 0.1).all()
        # on the validation cohorts the gap shows beyond its standard errors
        good = _values(small, "true_risk", "auc", t, "validation")
        bad = _values(small, "misspecified_cox", "auc", t, "validation")
        assert ((good[:, 0] - bad[:, 0]) > 2 * np.hypot(good[:, 1], bad[:, 1])).all()
        # the true risk is calibrated: slope 1 and intercept 0 in the population
        # exactly, and on validation cohorts up to noise (SD about 0.2 at n = 1000)
        pop = _values(small, "true_risk", "calibration_slope", t, "population")[:, 0]
        np.testing.assert_allclose(pop, 1.0, atol=1e-8)
        slope = _values(small, "true_risk", "calibration_slope", t, "validation")[:, 0]
        assert abs(slope.mean() - 1) < 0.35


def test_performance_table_compares_each_estimate_with_its_target(small):
    perf = small.performance.set_index(["method", "metric", "time", "estimate"])
    oracle = small.estimands.set_index("estimand")["true_value"]
    assert len(small.estimands) == 2 * 5 and (small.estimands["true_value_mcse"] >= 0).all()
    for t in SMALL.horizons:
        # the true risk's population value is the oracle itself (same reference cohort)
        row = perf.loc[("true_risk", "auc", t, "population")]
        assert row["target"] == "oracle" and row["bias"] == 0
        # validation vs population: bias and coverage of the Wald interval, by hand
        val = _values(small, "fine_gray", "brier", t, "validation")
        pop = _values(small, "fine_gray", "brier", t, "population")[:, 0]
        row = perf.loc[("fine_gray", "brier", t, "validation")]
        assert row["target"] == "population"
        assert row["bias"] == pytest.approx(np.mean(val[:, 0] - pop), rel=1e-12)
        inside = np.abs(val[:, 0] - pop) <= 1.959963984540054 * val[:, 1]
        assert row["cover"] == pytest.approx(inside.mean())
        # population vs oracle: how far the fitted model falls short of the truth
        row = perf.loc[("misspecified_cox", "auc", t, "population")]
        expected = row["mean_estimate"] - oracle[prediction_id("auc", "bone", t, "oracle")]
        assert row["bias"] == pytest.approx(expected) and row["bias"] < -0.1
        # metrics without a standard error have no coverage
        assert np.isnan(perf.loc[("fine_gray", "ipa", t, "validation"), "cover"])
    assert (small.performance["n_reps"] == 2).all()


def test_resumes_and_recomputes_a_replicate_bit_for_bit(small, tmp_path):
    # a copy of the study with replicate 1's chunk gone: resuming recomputes only it,
    # in a process whose reference cohort is already cached, in a chunk of another size
    copy = tmp_path / "copy"
    shutil.copytree(small.out, copy)
    (chunk,) = (copy / "estimates.parquet").glob("d000-r000000001-*.parquet")
    chunk.unlink()
    again = run_prediction_study(dataclasses.replace(SMALL, chunk_size=5), copy, summarise=False)
    assert (again.new_reps, again.resumed_reps) == (1, 1)
    assert_bit_identical(again.estimates, small.estimates)
    with pytest.raises(StudyMismatchError, match="different study definition"):
        run_prediction_study(dataclasses.replace(SMALL, n_validation=999), copy)


def test_a_method_that_always_fails_is_counted_not_dropped(tmp_path):
    study = dataclasses.replace(
        SMALL, n=400, n_validation=300, reps=1, methods=("true_risk", "fine_gray"), min_events=10**6
    )
    result = run_prediction_study(study, tmp_path)
    e = result.estimates
    failed = e[e["method"] == "fine_gray"]
    assert (failed["status"] == "failed").all() and failed["estimate"].isna().all()
    assert failed["reason"].str.contains("too few events").all()
    assert (e.loc[e["method"] == "true_risk", "status"] == "ok").all()
    perf = result.performance.set_index("method")
    assert (perf.loc["fine_gray", "n_failed"] == 1).all()
    assert perf.loc["fine_gray", "bias"].isna().all()
    assert result.failures["method"].tolist() == ["fine_gray"]


@pytest.mark.parametrize(
    "change, message",
    [
        ({"cause": "spleen"}, "cause = 'spleen' is not a cause"),
        ({"horizons": (3.0, 15.0)}, r"horizons \[15.0\] are not before the end of follow-up"),
        ({"misspecified_terms": ("height",)}, r"misspecified_terms \['height'\]"),
    ],
)
def test_refuses_a_study_that_does_not_fit_the_scenario(tmp_path, change, message):
    with pytest.raises(ValueError, match=message):
        run_prediction_study(PredictionStudy(**change), tmp_path)
    assert not any(tmp_path.iterdir())  # nothing written


def test_refuses_bad_options_naming_them():
    with pytest.raises(ValueError, match="methods"):
        PredictionStudy(methods=("aalen_johansen",))
    with pytest.raises(ValueError, match="horizons"):
        PredictionStudy(horizons=(3.0, -1.0))
    with pytest.raises(ValueError, match="n_validation = 0"):
        PredictionStudy(n_validation=0)
