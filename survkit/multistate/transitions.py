"""Which transitions a multi-state model allows: ``TransitionMatrix``.

The states are listed in order; the first is where every patient starts
(unless the data say otherwise). Transitions are numbered 1, 2, ... row by row
(by origin state, then by target state in state order), which is
``mstate::transMat``'s numbering. A state without outgoing transitions is
absorbing (death).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

__all__ = ["TransitionMatrix", "transition_matrix"]


@dataclass(frozen=True)
class TransitionMatrix:
    """States in order and the allowed transitions ``(from, to)``, numbered from 1."""

    states: tuple
    pairs: tuple  # ((from, to), ...) in transition-number order

    def __post_init__(self):
        if len(self.states) < 2:
            raise ValueError(
                f"states has {len(self.states)} state(s); a multi-state model needs at least "
                "2 (for example ['alive', 'dead'])."
            )
        if len(set(self.states)) != len(self.states):
            raise ValueError(f"states {list(self.states)} repeat a name; give each state once.")
        for a, b in self.pairs:
            for s in (a, b):
                if s not in self.states:
                    raise ValueError(
                        f"transition {a!r} -> {b!r} names state {s!r}, which is not in "
                        f"states {list(self.states)}; add it or fix the name."
                    )
            if a == b:
                raise ValueError(f"transition {a!r} -> {b!r} stays in the same state; remove it.")
        if len(set(self.pairs)) != len(self.pairs):
            raise ValueError("a transition is listed twice; list each (from, to) once.")
        if not self.pairs:
            raise ValueError("no transitions given; list at least one (from, to) pair.")

    @property
    def n_transitions(self) -> int:
        return len(self.pairs)

    def number(self, origin, target) -> int:
        """1-based transition number of origin -> target (ValueError if not allowed)."""
        try:
            return self.pairs.index((origin, target)) + 1
        except ValueError:
            allowed = [b for a, b in self.pairs if a == origin]
            raise ValueError(
                f"transition {origin!r} -> {target!r} is not allowed by the transition "
                f"matrix (from {origin!r} the allowed targets are {allowed}); add it to "
                "the transition matrix or fix the data."
            ) from None

    def targets(self, origin) -> list:
        return [b for a, b in self.pairs if a == origin]

    def is_absorbing(self, state) -> bool:
        return not self.targets(state)

    def label(self, number: int) -> str:
        """``"from -> to"`` of a 1-based transition number."""
        a, b = self.pairs[number - 1]
        return f"{a} -> {b}"

    def table(self) -> pd.DataFrame:
        """One row per transition: trans (1-based), from, to."""
        return pd.DataFrame(
            {
                "trans": range(1, len(self.pairs) + 1),
                "from": [a for a, _ in self.pairs],
                "to": [b for _, b in self.pairs],
            }
        )

    def matrix(self) -> pd.DataFrame:
        """mstate's square form: transition numbers, 0 where not allowed."""
        out = pd.DataFrame(0, index=list(self.states), columns=list(self.states))
        for k, (a, b) in enumerate(self.pairs, start=1):
            out.loc[a, b] = k
        out.index.name = "from"
        out.columns.name = "to"
        return out


def transition_matrix(
    states: Sequence, allowed: Mapping[object, Sequence] | Sequence[tuple]
) -> TransitionMatrix:
    """Build a ``TransitionMatrix``.

    ``allowed`` maps each origin state to its possible targets
    (``{"healthy": ["bone", "death"], "bone": ["death"]}``) or lists
    ``(from, to)`` pairs. Transitions are numbered row by row in state order,
    as ``mstate::transMat``.
    """
    states = tuple(states)
    if isinstance(allowed, Mapping):
        given = {(a, b) for a, targets in allowed.items() for b in targets}
        for a in allowed:
            if a not in states:
                raise ValueError(
                    f"allowed has origin state {a!r}, which is not in states {list(states)}."
                )
    else:
        given = {tuple(p) for p in allowed}
    position = {s: i for i, s in enumerate(states)}
    unknown = [p for p in given if p[0] not in position or p[1] not in position]
    if unknown:
        a, b = unknown[0]
        raise ValueError(
            f"{len(unknown)} transition(s) name states not in states {list(states)}, "
            f"e.g. {a!r} -> {b!r}; add the states or fix the names."
        )
    pairs = tuple(sorted(given, key=lambda p: (position[p[0]], position[p[1]])))
    return TransitionMatrix(states, pairs)
