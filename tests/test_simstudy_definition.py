"""Study definitions: the TOML loader, validation messages, overrides, the fingerprint."""

from __future__ import annotations

import textwrap

import pytest

from survkit.simstudy import (
    METHODS,
    DataGeneratingMechanism,
    EstimandSpec,
    StudyDefinition,
    load_study,
)
from survkit.simstudy.estimands import Plan

FULL = """
name = "tgfb2"
reps = 50
seed = 7
level = 0.9
chunk_size = 5

[[scenarios]]
scenario = "breast_site_dormancy"
n = [500, 1000]
label = "weak"
[scenarios.overrides]
"effects.bone.bone_tgfb2_score" = -0.2
sites.lung.seeding_fraction = 0.06

[[scenarios]]
scenario = "site_agnostic"
n = 800

[estimands]
log_hr_sites = ["bone"]
log_hr_covariates = ["bone_tgfb2_score", "er_positive"]
cif_times = [5, 2]
cif_causes = ["bone", "death"]
reference_n = 5000

[methods.cause_specific_cox]
ties = "breslow"
[methods.aalen_johansen]
"""


def write(tmp_path, text, name="study.toml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_full_definition_loads(tmp_path):
    study = load_study(write(tmp_path, FULL))
    assert study.name == "tgfb2" and study.reps == 50 and study.seed == 7
    assert study.level == 0.9 and study.chunk_size == 5
    assert [d.name for d in study.scenarios] == ["weak-n500", "weak-n1000", "site_agnostic-n800"]
    assert study.scenarios[0].overrides == {
        "effects.bone.bone_tgfb2_score": -0.2,
        "sites.lung.seeding_fraction": 0.06,
    }
    assert study.estimands.cif_times == (2.0, 5.0)
    assert study.methods == {
        "cause_specific_cox": {"min_events": 10, "ties": "breslow"},
        "aalen_johansen": {},
    }


def test_overrides_change_the_scenario_and_its_truth(tmp_path):
    study = load_study(write(tmp_path, FULL))
    scenario = study.scenarios[0].load()
    plan = Plan.build(scenario, study)
    assert [t for t, _ in plan.log_hr["bone"]] == ["bone_tgfb2_score", "er_positive"]
    bone = scenario.cause("bone")
    assert {e.term: e.log_hrs for e in bone.effects}["bone_tgfb2_score"] == (-0.2,)
    assert scenario.cause("lung").baseline.seeding_fraction == 0.06
    # a new effect for a cause that has none for that covariate yet
    dgm = DataGeneratingMechanism("breast_site_dormancy", 500, {"effects.death.er_positive": 0.3})
    assert {e.term: e.log_hrs for e in dgm.load().death.effects}["er_positive"] == (0.3,)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("seed = 1", r"study.toml: reps is missing; add reps"),
        ("reps = 0\nseed = 1", r"study.toml: reps = 0 is not a positive integer"),
        ("reps = 3\nseed = -1", r"study.toml: seed = -1 is not a non-negative integer"),
        ("reps = 3\nseed = 1\nrepz = 4", r"study.toml: repz is not a known key"),
        ("reps = 3\nseed = 1\nlevel = 95", r"study.toml: level = 95 is not in \(0, 1\)"),
        (
            "reps = 3\nseed = 1\n[methods.cox]",
            r"study.toml: methods.cox is not a known method; use some of",
        ),
        (
            "reps = 3\nseed = 1\n[methods.fine_gray]\nties = 'efron'",
            r"study.toml: methods.fine_gray.ties is not an option of fine_gray",
        ),
        (
            "reps = 3\nseed = 1\n[methods.cause_specific_cox]\nmin_events = -2",
            r"methods.cause_specific_cox.min_events = -2 is invalid",
        ),
        (
            "reps = 3\nseed = 1\n[[scenarios]]\nn = 0",
            r"study.toml: scenarios\[0\].n = 0 is not a positive integer",
        ),
        (
            "reps = 3\nseed = 1\n[[scenarios]]\nscenario = 'mars'",
            r"study.toml scenarios\[0\]: scenario = 'mars' is neither a built-in scenario",
        ),
        (
            "reps = 3\nseed = 1\n[[scenarios]]\noverrides = { 'planets.mars' = 1 }",
            r"overrides.'planets.mars' is not a dotted path into a scenario",
        ),
        (
            "reps = 3\nseed = 1\n[[scenarios]]\noverrides = { 'sites.bone.seeding_fraction' = 2 }",
            r"with overrides from .*study.toml.*sites.bone.seeding_fraction = 2 is out of range",
        ),
        (
            "reps = 3\nseed = 1\n[estimands]\ncif_times = [0]",
            r"study.toml: estimands.cif_times\[0\] = 0 is not a positive number",
        ),
        (
            "reps = 3\nseed = 1\n[estimands]\nreference_n = 10",
            r"study.toml: estimands.reference_n = 10 is below 1000",
        ),
        (
            "reps = 3\nseed = 1\n[[scenarios]]\n[[scenarios]]",
            r"study.toml: scenarios has two mechanisms named 'breast_site_dormancy-n2000'",
        ),
        ("reps = 3\nseed = [1", r"study.toml: not valid TOML"),
    ],
)
def test_errors_name_the_file_and_the_key(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(ValueError, match=message):
        study = load_study(path)
        study.mechanism_tables()


def test_estimands_are_checked_against_the_scenario():
    study = StudyDefinition(
        scenarios=(DataGeneratingMechanism(),),
        reps=2,
        seed=1,
        estimands=EstimandSpec(log_hr_sites=("kidney",)),
    )
    with pytest.raises(ValueError, match=r"estimands.log_hr_sites has \['kidney'\]"):
        Plan.build(study.scenarios[0].load(), study)
    late = study.replace(estimands=EstimandSpec(cif_times=(20.0,)))
    with pytest.raises(ValueError, match=r"cif_times \[20.0\] are not before the end"):
        Plan.build(late.scenarios[0].load(), late)


def test_missing_study_file():
    with pytest.raises(ValueError, match=r"nope.toml: file not found"):
        load_study("nope.toml")


def test_fingerprint_covers_what_decides_the_estimates(tmp_path):
    base = StudyDefinition(scenarios=(DataGeneratingMechanism(n=500),), reps=10, seed=1)
    print_ = base.fingerprint()
    assert base.fingerprint() == print_  # stable
    assert set(base.methods) == set(METHODS)
    same = [
        base.replace(reps=99),
        base.replace(level=0.9),
        base.replace(chunk_size=3),
        base.replace(name="other"),
        base.replace(methods={k: {} for k in reversed(list(METHODS))}),
    ]
    for study in same:
        assert study.fingerprint() == print_
    different = [
        base.replace(seed=2),
        base.replace(scenarios=(DataGeneratingMechanism(n=501),)),
        base.replace(
            scenarios=(
                DataGeneratingMechanism(n=500, overrides={"death.gompertz.rate_per_year": 0.01}),
            )
        ),
        base.replace(methods={"cause_specific_cox": {}}),
        base.replace(methods={**base.methods, "fine_gray": {"min_events": 5}}),
        base.replace(estimands=EstimandSpec(cif_times=(3.0,))),
        base.replace(estimands=EstimandSpec(reference_n=5000)),
    ]
    for study in different:
        assert study.fingerprint() != print_
    # editing the scenario file itself changes it too
    source = DataGeneratingMechanism(n=500).scenario_path().read_text()
    copy = tmp_path / "mine.toml"
    copy.write_text(source)
    mine = base.replace(
        scenarios=(DataGeneratingMechanism(str(copy), 500, {}, "breast_site_dormancy-n500"),)
    )
    assert mine.fingerprint() == print_
    copy.write_text(source.replace("rate_per_year = 0.006", "rate_per_year = 0.007"))
    assert mine.fingerprint() != print_


def test_scenario_paths_are_relative_to_the_study_file(tmp_path):
    source = DataGeneratingMechanism().scenario_path().read_text()
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "local.toml").write_text(source)
    study = load_study(
        write(tmp_path, 'reps = 2\nseed = 1\n[[scenarios]]\nscenario = "scenarios/local.toml"\n')
    )
    assert study.scenarios[0].name == "local-n2000"
    assert study.scenarios[0].load().site_names == ("bone", "lung", "liver", "brain")
