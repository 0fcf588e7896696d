"""Regression models on the engine.

CoxPH, FineGray, CauseSpecificCox, their baselines, summaries and residuals.
"""
