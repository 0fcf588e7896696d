"""Data in front of the engine.

Validation, event coding, the design matrix, sorted survival arrays and
episode splitting. The lowest layer: it imports nothing else from survkit.
"""
