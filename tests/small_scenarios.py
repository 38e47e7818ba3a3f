"""Small simulated scenarios several tests share."""

from __future__ import annotations

from typing import Final

#: Three dates across the processing-baseline change (04.00 from 2022-01-25); with seed 1
#: all three are mostly clear over Rajin, so dark water can be checked in each.
THREE_SCENES_2022: Final = """
seed = 1
start = "2022-01-15"
end = "2022-01-25"
revisit_days = 5
cloud_probability = 0.3
[[aoi]]
id = "rajin-port"
activity = [ { from = "2021-01-01", ships = 6 } ]
[[aoi]]
id = "tumangang-rail"
activity = [ { from = "2021-01-01", railcars = 60 } ]
"""
