"""Diagnostics of fitted models.

Residuals of any fitted CoxPH and cox.zph.
"""
