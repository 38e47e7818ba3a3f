"""Reading pixels: COG chips, the HTTP tile fetch, TIFF layouts, grids, retries, the chip cache.

See docs/ARCHITECTURE.md for what this package may import.
"""
