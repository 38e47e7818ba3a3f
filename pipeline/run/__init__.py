"""A run in plain Python: plan, survey, reference, read and analyse, record. No Prefect here.

See docs/ARCHITECTURE.md for what this package may import.
"""
