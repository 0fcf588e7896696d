"""Organ-level analyses on the models.

Per-organ fits, the stacked Lunn-McNeil model, time-varying effects and
change points.
"""
