"""Nonparametric estimators and tests.

Aalen-Johansen cumulative incidence and Gray's test.
"""
