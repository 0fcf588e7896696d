"""Coefficient paths of a penalised Cox fit (glmnet's ``plot(fit, xvar = "lambda")``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .figures import new_figure


def plot_coefficient_path(model, label: int = 10, show_cv: bool = True, ax=None):
    """One line per covariate: its coefficient against log(lambda), lambda decreasing
    to the right, as glmnet draws it.

    ``model`` is a fitted ``CoxNet`` (or its ``coef_path_`` DataFrame). The ``label``
    covariates largest in absolute value at the end of the path are named at the
    right edge (0 names none). With ``show_cv`` and a cross-validated model,
    dotted vertical lines mark ``lambda_min`` and ``lambda_1se``. Returns the Figure.
    """
    path = model if isinstance(model, pd.DataFrame) else getattr(model, "coef_path_", None)
    if not isinstance(path, pd.DataFrame):
        raise ValueError(
            "plot_coefficient_path needs a fitted CoxNet (or its coef_path_ DataFrame); "
            f"got {type(model).__name__}. Call fit(...) first."
        )
    if int(label) != label or label < 0:
        raise ValueError(f"label={label!r} must be a non-negative integer.")
    lam = path.index.to_numpy(dtype=float)
    if lam.size == 0 or np.any(lam <= 0):
        raise ValueError("the path's lambdas must be positive to be drawn on a log scale.")
    if ax is None:
        fig, (ax,) = new_figure(1, width=6.5, height=4.2)
    else:
        fig = ax.figure
    x = np.log(lam)
    values = path.to_numpy()
    for j, name in enumerate(path.columns):
        ax.plot(x, values[:, j], color=f"C{j % 10}", linewidth=1, label=str(name))
    ax.axhline(0.0, color="0.6", linewidth=0.8)
    end = values[-1]
    for j in np.argsort(-np.abs(end))[: int(label)]:
        if end[j] != 0:
            ax.annotate(
                str(path.columns[j]), (x[-1], end[j]), xytext=(3, 0),
                textcoords="offset points", fontsize=7, va="center", color=f"C{j % 10}",
            )  # fmt: skip
    if show_cv and hasattr(model, "lambda_1se_"):
        for value, name in ((model.lambda_min_, "lambda_min"), (model.lambda_1se_, "lambda_1se")):
            ax.axvline(np.log(value), color="0.3", linestyle=":", linewidth=1, label=name)
    ax.set_xlim(x[0], x[-1])  # largest lambda on the left, as glmnet
    ax.set_xlabel("log(lambda)")
    ax.set_ylabel("coefficient")
    nonzero = (values != 0).sum(axis=1)
    top = ax.secondary_xaxis("top")
    ticks = np.linspace(0, len(x) - 1, min(6, len(x))).astype(int)
    top.set_ticks(x[ticks], [str(int(v)) for v in nonzero[ticks]])
    top.set_xlabel("non-zero coefficients")
    return fig
