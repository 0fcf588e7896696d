"""Multi-state data: event histories, the builders and the long (msprep) form."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survkit import multistate as ms

DATA = Path(__file__).parent / "reference" / "data"
MGUS = ms.transition_matrix(["mgus", "pcm", "death"], {"mgus": ["pcm", "death"], "pcm": ["death"]})
ILLNESS = ms.transition_matrix(
    ["healthy", "bone", "liver", "death"],
    {"healthy": ["bone", "liver", "death"], "bone": ["liver", "death"], "liver": ["death"]},
)


def test_transition_matrix_numbers_row_by_row_like_transmat():
    assert ILLNESS.pairs == (
        ("healthy", "bone"),
        ("healthy", "liver"),
        ("healthy", "death"),
        ("bone", "liver"),
        ("bone", "death"),
        ("liver", "death"),
    )
    m = ILLNESS.matrix()
    assert m.loc["bone", "death"] == 5 and m.loc["death", "healthy"] == 0
    assert ILLNESS.number("liver", "death") == 6
    assert ILLNESS.is_absorbing("death") and not ILLNESS.is_absorbing("bone")
    with pytest.raises(ValueError, match="not allowed"):
        ILLNESS.number("liver", "bone")
    with pytest.raises(ValueError, match="not in states"):
        ms.transition_matrix(["a", "b"], {"a": ["c"]})
    with pytest.raises(ValueError, match="same state"):
        ms.transition_matrix(["a", "b"], [("a", "a")])


def test_wide_mgus2_gives_the_vignette_histories():
    # R built ms_mgus2_long.csv as survival's vignette does (tmerge-equivalent)
    wide = pd.read_csv(DATA / "ms_mgus2_wide.csv")
    built = ms.from_wide(
        wide,
        MGUS,
        time_cols={"pcm": "ptime", "death": "futime"},
        status_cols={"pcm": "pstat", "death": "death"},
        id_col="id",
        keep=["age", "male"],
        censor_value="censor",
    ).histories
    expected = pd.read_csv(DATA / "ms_mgus2_long.csv")
    assert len(built) == len(expected) == 1499
    for col in ["id", "tstart", "tstop", "from", "to", "age", "male"]:
        np.testing.assert_array_equal(built[col].to_numpy(), expected[col].to_numpy(), col)
    assert built["status"].tolist() == (expected["to"] != "censor").astype(int).tolist()


def test_wide_rotterdam_gives_the_reference_histories():
    wide = pd.read_csv(DATA / "ms_rotterdam_wide.csv")
    tm = ms.transition_matrix(
        ["primary", "relapse", "death"], {"primary": ["relapse", "death"], "relapse": ["death"]}
    )
    built = ms.from_wide(
        wide,
        tm,
        time_cols={"relapse": "rtime", "death": "dtime"},
        status_cols={"relapse": "recur", "death": "death"},
        id_col="id",
        keep=["age", "nodes", "hormon"],
        censor_value="censor",
    ).histories
    expected = pd.read_csv(DATA / "ms_rotterdam_long.csv")
    for col in ["id", "tstart", "tstop", "from", "to", "age", "nodes", "hormon"]:
        np.testing.assert_array_equal(built[col].to_numpy(), expected[col].to_numpy(), col)


def test_events_form_equals_histories_and_counts_transitions():
    hist = pd.read_csv(DATA / "ms_synth_long.csv")
    events = hist[["id", "tstop", "to", "x1", "x2"]]
    built = ms.from_events(
        events,
        ILLNESS.__class__(("free", "bone", "liver", "death"), _synth_pairs()),
        id_col="id",
        time_col="tstop",
        event_col="to",
        censor_value="censor",
        keep=["x1", "x2"],
    )
    for col in ["id", "tstart", "tstop", "from", "to", "x1", "x2"]:
        np.testing.assert_array_equal(built.histories[col].to_numpy(), hist[col].to_numpy(), col)
    counts = built.counts().set_index(["from", "to"])["n"]
    moved = hist[hist["to"] != "censor"].groupby(["from", "to"]).size()
    for key, n in moved.items():
        assert counts[key] == n


def _synth_pairs():
    return (
        ("free", "bone"),
        ("free", "liver"),
        ("free", "death"),
        ("bone", "liver"),
        ("bone", "death"),
        ("liver", "death"),
    )


def test_first_event_data_like_cohort_data():
    # Cohort.data: one row per patient, the first event or "censored"
    first = pd.DataFrame(
        {
            "patient_id": [0, 1, 2, 3],
            "time": [1.5, 2.0, 0.7, 3.0],
            "event": ["bone", "censored", "death", "liver"],
            "age": [50.0, 61.0, 70.0, 44.0],
        }
    )
    tm = ms.transition_matrix(
        ["no_relapse", "bone", "liver", "death"],
        {"no_relapse": ["bone", "liver", "death"], "bone": ["death"], "liver": ["death"]},
    )
    first["subtype"] = pd.Categorical(["a", "b", "a", "b"])
    data = ms.from_events(first, tm, "patient_id", "time", "event", keep=["age", "subtype"])
    h = data.histories
    assert h["age"].dtype == float and isinstance(h["subtype"].dtype, pd.CategoricalDtype)
    assert h["from"].tolist() == ["no_relapse"] * 4
    assert h["status"].tolist() == [1, 0, 1, 1]
    long = ms.long_form(data)
    # 3 transitions out of no_relapse per patient, status 1 on the one that happened
    assert len(long) == 12
    assert long.groupby("id")["status"].sum().tolist() == [1, 0, 1, 1]
    assert long.loc[(long["id"] == 3) & (long["status"] == 1), "trans"].item() == 2
    np.testing.assert_array_equal(long["time"], long["Tstop"] - long["Tstart"])


def test_long_form_and_expanded_covariates_follow_msprep():
    hist = pd.DataFrame(
        {
            "id": [1, 1, 2],
            "tstart": [0.0, 2.0, 0.0],
            "tstop": [2.0, 5.0, 4.0],
            "from": ["healthy", "bone", "healthy"],
            "to": ["bone", "censored", "death"],
            "age": [60.0, 60.0, 70.0],
        }
    )
    data = ms.read_histories(hist, ILLNESS)
    long = ms.long_form(data)
    assert long["trans"].tolist() == [1, 2, 3, 4, 5, 1, 2, 3]
    assert long["status"].tolist() == [1, 0, 0, 0, 0, 0, 0, 1]
    assert long["Tstart"].tolist() == [0, 0, 0, 2, 2, 0, 0, 0]
    wide = ms.expand_covariates(long, ["age"], ILLNESS)
    assert wide["age.1"].tolist() == [60, 0, 0, 0, 0, 70, 0, 0]
    assert wide["age.5"].tolist() == [0, 0, 0, 0, 60, 0, 0, 0]
    assert "age" in wide and "age.6" in wide


def _hist(**changes):
    base = {
        "id": [1, 1, 2],
        "tstart": [0.0, 2.0, 0.0],
        "tstop": [2.0, 5.0, 4.0],
        "from": ["healthy", "bone", "healthy"],
        "to": ["bone", "death", "censored"],
    }
    base.update(changes)
    return pd.DataFrame(base)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"to": ["liver", "death", "healthy"]}, "does not allow"),
        ({"from": ["healthy", "bone", "nowhere"]}, "not in the transition matrix"),
        ({"tstart": [0.0, 1.5, 0.0]}, "time going backwards"),
        ({"tstart": [0.0, 2.5, 0.0]}, "gap"),
        ({"tstop": [2.0, 2.0, 4.0]}, "tstart >= tstop"),
        ({"from": ["healthy", "liver", "healthy"]}, "'from' must follow 'to'"),
    ],
)
def test_impossible_histories_are_refused(changes, message):
    with pytest.raises(ValueError, match=message):
        ms.read_histories(_hist(**changes), ILLNESS)


def test_follow_up_after_death_is_refused():
    hist = pd.DataFrame(
        {
            "id": [1, 1],
            "tstart": [0.0, 2.0],
            "tstop": [2.0, 3.0],
            "from": ["healthy", "death"],
            "to": ["death", "censored"],
        }
    )
    with pytest.raises(ValueError, match="event after death"):
        ms.read_histories(hist, ILLNESS)


def _wide(**changes):
    base = {
        "ptime": [3.0, 5.0],
        "pstat": [1, 0],
        "futime": [6.0, 5.0],
        "death": [1, 0],
    }
    base.update(changes)
    return pd.DataFrame(base)


def _from_wide(df):
    return ms.from_wide(
        df,
        MGUS,
        time_cols={"pcm": "ptime", "death": "futime"},
        status_cols={"pcm": "pstat", "death": "death"},
    )


def test_wide_paths_and_their_errors():
    h = _from_wide(_wide()).histories
    assert h["to"].tolist() == ["pcm", "death", "censored"]
    assert h["tstart"].tolist() == [0.0, 3.0, 0.0]
    # death before progression: an event after death
    with pytest.raises(ValueError, match="after the absorbing state 'death'"):
        _from_wide(_wide(ptime=[7.0, 5.0]))
    # progression after death at the same time on a path that needs order
    tm = ms.transition_matrix(["mgus", "pcm", "death"], {"mgus": ["pcm"], "pcm": ["death"]})
    with pytest.raises(ValueError, match="at or before the time"):
        ms.from_wide(
            _wide(futime=[2.0, 5.0]),
            tm,
            time_cols={"pcm": "ptime", "death": "futime"},
            status_cols={"pcm": "pstat", "death": "death"},
        )
    # death straight from mgus when only mgus -> pcm -> death is allowed
    with pytest.raises(ValueError, match="cannot reach"):
        ms.from_wide(
            _wide(pstat=[0, 0], ptime=[6.0, 5.0]),
            tm,
            time_cols={"pcm": "ptime", "death": "futime"},
            status_cols={"pcm": "pstat", "death": "death"},
        )
    with pytest.raises(ValueError, match="other than 0 and 1"):
        _from_wide(_wide(death=[2, 0]))


def test_events_errors():
    tm = MGUS
    with pytest.raises(ValueError, match="after being censored"):
        ms.from_events(
            pd.DataFrame({"id": [1, 1], "t": [1.0, 2.0], "e": ["censored", "pcm"]}),
            tm,
            "id",
            "t",
            "e",
        )
    with pytest.raises(ValueError, match="event after death"):
        ms.from_events(
            pd.DataFrame({"id": [1, 1], "t": [1.0, 2.0], "e": ["death", "pcm"]}),
            tm,
            "id",
            "t",
            "e",
        )
    with pytest.raises(ValueError, match="tstart >= tstop"):
        ms.from_events(
            pd.DataFrame({"id": [1, 1], "t": [1.0, 1.0], "e": ["pcm", "death"]}),
            tm,
            "id",
            "t",
            "e",
        )


def test_start_time_landmark_and_p0_errors():
    data = ms.read_histories(_hist(), ILLNESS)
    with pytest.raises(ValueError, match="needs start_time"):
        ms.state_occupation(data, landmark_state="bone")
    with pytest.raises(ValueError, match="no patient is in state 'liver'"):
        ms.state_occupation(data, start_time=1.0, landmark_state="liver")
    with pytest.raises(ValueError, match="every interval ends before"):
        ms.state_occupation(data, start_time=10.0)
    with pytest.raises(ValueError, match="adding up to 1"):
        ms.state_occupation(data, start_time=1.0, p0={"bone": 0.5})
    with pytest.raises(ValueError, match="not in"):
        ms.state_occupation(data, start_time=1.0, p0={"lung": 1.0})
    # from a landmark in bone at 3: the one patient there dies at 5
    occ = ms.state_occupation(data, start_time=3.0, landmark_state="bone")
    last = occ[occ["time"] == 5.0].set_index("state")["pstate"]
    assert last["death"] == 1.0 and last["bone"] == 0.0
