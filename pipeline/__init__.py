"""rason-watch: Sentinel-2 evidence about trade at Rason (Rajin port, Tumangang-Khasan railhead)."""

__version__ = "0.1.0"
