"""Geography and safe names: AOIs, reprojection, dates, safe paths, redaction.

See docs/ARCHITECTURE.md for what this package may import.
"""
