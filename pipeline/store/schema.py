"""The results store's schema, one migration per version (``PRAGMA user_version``).

The ``observations`` table is a contract (README: other tools read it directly), so its
name and columns never change; later versions only add.
"""

from __future__ import annotations

from typing import Final

MIGRATIONS: Final[tuple[str, ...]] = (
    # 0 -> 1: the contract table, its extras, detections and runs.
    """
    CREATE TABLE observations (
        aoi TEXT NOT NULL,
        scene_id TEXT NOT NULL,
        datetime TEXT NOT NULL,
        clear_fraction REAL,
        ships INTEGER,
        railcar_equivalents REAL,
        occupied_track_m REAL,
        detector_version TEXT NOT NULL,
        source TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
        error TEXT,
        PRIMARY KEY (aoi, scene_id, detector_version)
    );
    CREATE INDEX observations_by_time ON observations (aoi, detector_version, datetime);
    CREATE TABLE observation_extras (
        aoi TEXT NOT NULL,
        scene_id TEXT NOT NULL,
        detector_version TEXT NOT NULL,
        railcar_low REAL,
        railcar_high REAL,
        simulated INTEGER NOT NULL DEFAULT 0,
        run_id TEXT,
        processed_at TEXT NOT NULL,
        scene_json TEXT,
        PRIMARY KEY (aoi, scene_id, detector_version)
    );
    CREATE TABLE detections (
        aoi TEXT NOT NULL,
        scene_id TEXT NOT NULL,
        detector_version TEXT NOT NULL,
        n INTEGER NOT NULL,
        kind TEXT NOT NULL,
        row REAL NOT NULL,
        col REAL NOT NULL,
        lon REAL,
        lat REAL,
        length_m REAL,
        width_m REAL,
        heading_deg REAL,
        score REAL,
        geometry_wkt TEXT,
        PRIMARY KEY (aoi, scene_id, detector_version, n)
    );
    CREATE TABLE runs (
        run_id TEXT PRIMARY KEY,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        command TEXT NOT NULL,
        parameters_json TEXT NOT NULL,
        detector_version TEXT NOT NULL,
        package_version TEXT NOT NULL,
        host TEXT NOT NULL,
        n_ok INTEGER,
        n_failed INTEGER,
        n_skipped INTEGER
    );
    """,
    # 1 -> 2: the reference each row was measured against (the contract columns stay).
    """
    ALTER TABLE observations ADD COLUMN reference_id TEXT;
    """,
    # 2 -> 3: co-registration to the reference (the scene's measured shift, east and north,
    # in 10 m pixels) and why a row is low confidence (an unreliable shift), if it is.
    """
    ALTER TABLE observation_extras ADD COLUMN shift_x_px REAL;
    ALTER TABLE observation_extras ADD COLUMN shift_y_px REAL;
    ALTER TABLE observation_extras ADD COLUMN low_confidence TEXT;
    """,
    # 3 -> 4: railcar-equivalents per yard zone (the AOI total stays in observations).
    """
    CREATE TABLE zone_observations (
        aoi TEXT NOT NULL,
        scene_id TEXT NOT NULL,
        detector_version TEXT NOT NULL,
        zone TEXT NOT NULL,
        railcar_equivalents REAL,
        occupied_track_m REAL,
        railcar_low REAL,
        railcar_high REAL,
        clear_fraction REAL,
        PRIMARY KEY (aoi, scene_id, detector_version, zone)
    );
    """,
    # 4 -> 5: which way each detection was made (offshore, shore, reference or berth).
    """
    ALTER TABLE detections ADD COLUMN method TEXT;
    """,
    # 5 -> 6: the product level each observation was measured on (L2A or L1C, issue 17).
    # Stores written before could only hold Level-2A scenes (Level-1C items were refused).
    """
    ALTER TABLE observations ADD COLUMN product_level TEXT;
    UPDATE observations SET product_level = 'L2A';
    """,
)
