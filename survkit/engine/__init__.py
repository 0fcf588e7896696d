"""The one counting-process risk-set engine.

Compiled scans, the risk-set problem, Newton, risk-set moments, score
residuals and concordance counts. Imports only ``survkit.data``.
"""
