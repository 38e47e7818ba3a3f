"""rason-watch: Sentinel-2 evidence about trade at Rason (Rajin port, Tumangang-Khasan railhead).

Importing the package turns Prefect's server telemetry off unless the operator set it: the
temporary Prefect server a run starts would otherwise report to Prefect's servers, and a
tool about North Korea's trade should not announce itself to third parties by default.
"""

import os

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

__version__ = "0.1.0"
