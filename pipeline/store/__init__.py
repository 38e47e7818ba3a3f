"""What is kept on disk: the results store, saved references, exports.

See docs/ARCHITECTURE.md for what this package may import.
"""
