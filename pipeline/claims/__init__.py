"""Claims to verdicts: parse, series, statistics, change point, rules, evaluate.

See docs/ARCHITECTURE.md for what this package may import.
"""
