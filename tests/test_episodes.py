"""split_episodes against R's survSplit (tests/reference/data/vet2.csv) and its bad input."""

import numpy as np
import pandas as pd
import pytest

from survkit.data.episodes import period_columns, period_labels, split_episodes

from .reference_cases import cases, data


def test_reproduces_r_survsplit_row_for_row():
    vet2 = data("vet2.csv")
    cuts = cases("timevarying")["vet2_step"]["cuts"]
    ours = split_episodes(data("veteran.csv"), cuts, "time", "status", episode_col="tgroup")
    assert set(ours.columns) == set(vet2.columns)
    ours = ours[vet2.columns]
    assert ours.shape == vet2.shape
    for col in vet2.columns:
        np.testing.assert_array_equal(ours[col].to_numpy(), vet2[col].to_numpy(), err_msg=col)
    # the new entry column sits before the duration, as survSplit puts it
    cols = list(split_episodes(data("veteran.csv"), cuts, "time", "status").columns)
    assert cols.index("tstart") == cols.index("time") - 1


def test_entry_times_string_events_and_ids():
    df = pd.DataFrame(
        {
            "entry": [0.0, 1.0, 2.5, 0.5],
            "stop": [3.0, 2.0, 6.0, 2.5],
            "event": ["bone", "censored", "lung", "death"],
            "x": [1.0, 2.0, 3.0, 4.0],
        },
        index=[10, 11, 12, 13],
    )
    out = split_episodes(
        df, [2.0, 2.5], "stop", "event", entry_col="entry", id_col="pid", censor_value="censored"
    )
    expected = [
        (0.0, 2.0, "censored", 1),
        (2.0, 2.5, "censored", 2),
        (2.5, 3.0, "bone", 3),
        (1.0, 2.0, "censored", 1),  # stop equal to a cut: not split
        (2.5, 6.0, "lung", 3),  # entry equal to a cut: starts in period 3
        (0.5, 2.0, "censored", 1),
        (2.0, 2.5, "death", 2),
    ]
    got = list(out[["entry", "stop", "event", "episode"]].itertuples(index=False, name=None))
    assert got == expected
    assert list(out["pid"]) == [0, 0, 0, 1, 2, 3, 3]
    assert (out.index == np.arange(len(out))).all()
    # total time at risk is unchanged
    assert (out["stop"] - out["entry"]).sum() == pytest.approx((df["stop"] - df["entry"]).sum())


def test_categorical_event_column_keeps_its_categories():
    df = pd.DataFrame(
        {"t": [1.0, 5.0], "e": pd.Categorical(["censored", "brain"]), "x": [0.1, 0.2]}
    )
    out = split_episodes(df, [2.0], "t", "e", censor_value="censored")
    assert out["e"].tolist() == ["censored", "censored", "brain"]
    with pytest.raises(ValueError, match="censor_value=0 is not a category"):
        split_episodes(df, [2.0], "t", "e")


@pytest.mark.parametrize(
    ("cuts", "message"),
    [
        ([180, 90], r"not strictly increasing \(1 out-of-order"),
        ([90, 90], "not strictly increasing"),
        ([-5, 90], r"1 value\(s\) <= 0"),
        ([0.0], r"<= 0"),
        (
            [90, 1000],
            r"1 cut time\(s\) outside follow-up \(\[1000.0\]\).*last follow-up time \(999\)",
        ),
        ([np.nan], "missing or infinite"),
        ([], "non-empty"),
    ],
)
def test_bad_cuts(cuts, message):
    with pytest.raises(ValueError, match=message):
        split_episodes(data("veteran.csv"), cuts, "time", "status")


def test_cut_before_every_entry_is_outside_follow_up():
    df = pd.DataFrame({"a": [5.0, 6.0], "b": [9.0, 10.0], "e": [1, 0]})
    with pytest.raises(ValueError, match=r"earliest entry time \(5\)"):
        split_episodes(df, [4.0], "b", "e", entry_col="a")


def test_other_bad_input():
    vet = data("veteran.csv")
    with pytest.raises(ValueError, match="duration_col: 1 column"):
        split_episodes(vet, [90], "nope", "status")
    with pytest.raises(ValueError, match="would overwrite"):
        split_episodes(vet, [90], "time", "status", episode_col="karno")


def test_period_columns_and_labels():
    out = split_episodes(data("veteran.csv"), [90, 180], "time", "status")
    wide, names = period_columns(out, "karno", 3)
    assert names == ["karno_period1", "karno_period2", "karno_period3"]
    np.testing.assert_array_equal(wide[names].sum(axis=1), out["karno"])
    assert ((wide[names] != 0).sum(axis=1) <= 1).all()
    assert period_labels([90, 180]) == ["(0, 90]", "(90, 180]", "(180, inf)"]
