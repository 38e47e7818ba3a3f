"""Read and validate ``aoi/*.geojson``.

An AOI file is a GeoJSON FeatureCollection in WGS84. Its first feature has
``"role": "aoi"`` and carries ``id``, ``name``, ``kind`` (``port`` or ``rail``) and
``sources``; further features have ``"role": "zone"`` and name the parts of the AOI
(yards, the bridge, the harbour basin). A plain Feature or bare Polygon is accepted
too, with the id taken from the file name.

A rail AOI may also carry track centre lines: ``LineString`` or ``MultiLineString``
features with ``"kind": "track"`` and a ``"source"`` saying where the line comes from
(a survey, OpenStreetMap, a hand digitisation on named imagery), inside the AOI. Rail
measures occupancy only near them; without any, it derives the lines from the imagery
(:mod:`pipeline.detect.tracks`).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Final, cast

import shapely
from shapely import make_valid
from shapely.geometry import LineString, MultiLineString, Polygon, shape
from shapely.geometry.base import BaseGeometry

from pipeline.errors import InvalidAoiError
from pipeline.geo.projection import area_km2
from pipeline.types import Aoi, AoiKind, TrackLine, Zone

#: Smallest AOI accepted: a single 10 m pixel cannot hold a berth or a yard.
MIN_AREA_KM2: Final = 0.05
#: Largest AOI accepted: beyond this a "window" is most of an MGRS tile, almost surely a mistake.
MAX_AREA_KM2: Final = 400.0
#: AOI ids become file and folder names: keep them to a safe, lower-case alphabet.
AOI_ID_PATTERN: Final = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_KINDS: Final = ("port", "rail")
#: GeoJSON geometries a track centre line may have.
_LINE_TYPES: Final = ("LineString", "MultiLineString")


def is_aoi_id(text: str) -> bool:
    """Whether ``text`` is a valid AOI id: all of it matches :data:`AOI_ID_PATTERN`."""
    return AOI_ID_PATTERN.fullmatch(text) is not None


def _position(pos: Any, where: str) -> None:
    """Check one ``[lon, lat]`` position: finite numbers inside WGS84 bounds."""
    if not isinstance(pos, list) or len(pos) < 2 or not all(_finite_number(v) for v in pos[:2]):
        raise InvalidAoiError(f"{where}: position {pos!r} is not [lon, lat]")
    lon, lat = pos[0], pos[1]
    if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
        raise InvalidAoiError(
            f"{where}: position {pos!r} is outside WGS84 lon/lat; AOIs must be EPSG:4326"
        )


def _finite_number(value: Any) -> bool:
    """A real int or float (not a bool) that is finite as a float."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer too large for a float
        return False


def _ring(ring: Any, where: str) -> None:
    """Check one linear ring: a closed list of at least 4 valid positions."""
    if not isinstance(ring, list):
        raise InvalidAoiError(f"{where}: a ring must be a list of positions")
    if len(ring) < 4:
        raise InvalidAoiError(f"{where}: a ring needs at least 4 positions, has {len(ring)}")
    for pos in ring:
        _position(pos, where)
    if ring[0] != ring[-1]:
        raise InvalidAoiError(f"{where}: ring is not closed (first position != last)")


def _polygon(geom: Any, where: str) -> Polygon:
    if not isinstance(geom, Mapping) or geom.get("type") != "Polygon":
        kind = geom.get("type") if isinstance(geom, Mapping) else type(geom).__name__
        raise InvalidAoiError(f"{where}: geometry must be a GeoJSON Polygon, got {kind!r}")
    rings = geom.get("coordinates")
    if not isinstance(rings, list) or not rings:
        raise InvalidAoiError(f"{where}: Polygon has no coordinate rings")
    for ring in rings:
        _ring(ring, where)
    try:
        polygon = shape({"type": "Polygon", "coordinates": rings})
    except (ValueError, TypeError, shapely.errors.GEOSException) as exc:
        raise InvalidAoiError(f"{where}: not a usable polygon ({exc})") from None
    if not isinstance(polygon, Polygon) or not polygon.is_valid:
        reason = make_valid(polygon).geom_type if isinstance(polygon, Polygon) else "not a polygon"
        raise InvalidAoiError(f"{where}: polygon is not valid (self-intersecting? -> {reason})")
    return polygon


def _line(geom: Any, where: str) -> BaseGeometry:
    """A LineString or MultiLineString of valid positions, each part of non-zero length."""
    kind = geom.get("type") if isinstance(geom, Mapping) else type(geom).__name__
    if kind not in _LINE_TYPES or not isinstance(geom, Mapping):
        raise InvalidAoiError(
            f"{where}: a track centre line must be a GeoJSON LineString or MultiLineString, "
            f"got {kind!r}"
        )
    coords = geom.get("coordinates")
    parts = [coords] if kind == "LineString" else coords
    if not isinstance(parts, list) or not parts:
        raise InvalidAoiError(f"{where}: {kind} has no coordinates")
    for part in parts:
        if not isinstance(part, list) or len(part) < 2:
            raise InvalidAoiError(f"{where}: every line needs at least 2 positions")
        for pos in part:
            _position(pos, where)
    lines = [LineString([pos[:2] for pos in part]) for part in parts]
    if any(line.length == 0 for line in lines):
        raise InvalidAoiError(f"{where}: a track line has zero length (repeated positions)")
    return lines[0] if kind == "LineString" else MultiLineString(lines)


def _track(props: Mapping[str, Any], geom: Any, outline: BaseGeometry, where: str) -> TrackLine:
    """A ``"kind": "track"`` feature: its line, inside ``outline``, with a source.

    Raises:
        InvalidAoiError: wrong geometry type, no source, or not inside the AOI.
    """
    name = props.get("name", "")
    label = f"{where}, track {name!r}" if name else f"{where}, track"
    line = _line(geom, label)
    source = props.get("source")
    if not isinstance(source, str) or not source.strip():
        raise InvalidAoiError(
            f'{label}: a track line needs a "source" property saying where it comes from '
            "(a survey, OpenStreetMap, imagery it was digitised on)"
        )
    if not outline.buffer(1e-6).contains(line):
        raise InvalidAoiError(f"{label}: the line is not inside the AOI; clip it to the AOI")
    return TrackLine(geometry=line, source=source.strip(), name=str(name))


def _feature(feature: Any, where: str) -> dict[str, Any]:
    """A GeoJSON Feature whose ``properties`` are an object (or absent)."""
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise InvalidAoiError(f"{where}: every member of features must be a GeoJSON Feature")
    props = feature.get("properties")
    if props is not None and not isinstance(props, dict):
        raise InvalidAoiError(f"{where}: feature properties must be an object")
    return cast(dict[str, Any], feature)


def _features(doc: Any, where: str) -> list[dict[str, Any]]:
    if not isinstance(doc, dict):
        raise InvalidAoiError(f"{where}: top level must be a GeoJSON object")
    crs = doc.get("crs")
    if crs is not None and "CRS84" not in json.dumps(crs) and "4326" not in json.dumps(crs):
        raise InvalidAoiError(f"{where}: crs {crs!r} is not WGS84; AOIs must be EPSG:4326")
    kind = doc.get("type")
    if kind == "FeatureCollection":
        features = doc.get("features")
        if not isinstance(features, list) or not features:
            raise InvalidAoiError(f"{where}: FeatureCollection has no features")
        return [_feature(f, where) for f in features]
    if kind == "Feature":
        return [_feature(doc, where)]
    if kind == "Polygon":
        return [{"type": "Feature", "properties": {}, "geometry": doc}]
    raise InvalidAoiError(f"{where}: expected FeatureCollection, Feature or Polygon, got {kind!r}")


def parse_aoi(doc: Any, *, default_id: str, where: str = "<aoi>") -> Aoi:
    """Validate a parsed GeoJSON document and build an :class:`Aoi`.

    Raises:
        InvalidAoiError: the document is not a closed, valid WGS84 polygon of sane area
            with a safe id and known kind.
    """
    features = _features(doc, where)
    head, *rest = features
    props = head.get("properties") or {}
    aoi_id = str(props.get("id", default_id))
    if not is_aoi_id(aoi_id):
        raise InvalidAoiError(
            f"{where}: AOI id {aoi_id!r} must match {AOI_ID_PATTERN.pattern} "
            "(lower-case letters, digits, '-' and '_')"
        )
    kind = str(props.get("kind", "port"))
    if kind not in _KINDS:
        raise InvalidAoiError(f"{where}: kind {kind!r} must be one of {', '.join(_KINDS)}")
    outline = _polygon(head.get("geometry"), f"{where} ({aoi_id})")
    area = area_km2(outline)
    if not MIN_AREA_KM2 <= area <= MAX_AREA_KM2:
        raise InvalidAoiError(
            f"{where}: AOI {aoi_id!r} covers {area:.3g} km², outside the sane range "
            f"{MIN_AREA_KM2}-{MAX_AREA_KM2} km²"
        )
    zones = []
    tracks = []
    for i, feat in enumerate(rest, start=1):
        zprops = feat.get("properties") or {}
        geom = feat.get("geometry")
        gtype = geom.get("type") if isinstance(geom, Mapping) else None
        if zprops.get("kind") == "track":
            if kind != "rail":
                raise InvalidAoiError(f"{where}: track lines belong to rail AOIs, not {kind!r}")
            tracks.append(_track(zprops, geom, outline, f"{where} ({aoi_id}, feature {i})"))
            continue
        if gtype in _LINE_TYPES:
            raise InvalidAoiError(
                f"{where} ({aoi_id}, feature {i}): a {gtype} is read only as a track centre "
                'line, which needs "kind": "track" and a "source"'
            )
        zname = str(zprops.get("zone", f"zone-{i}"))
        zgeom = _polygon(feat.get("geometry"), f"{where} ({aoi_id}, zone {zname!r})")
        if not outline.buffer(1e-6).contains(zgeom):
            raise InvalidAoiError(f"{where}: zone {zname!r} is not inside AOI {aoi_id!r}")
        zones.append(Zone(name=zname, kind=str(zprops.get("kind", "zone")), geometry=zgeom))
    if len({z.name for z in zones}) != len(zones):
        raise InvalidAoiError(f"{where}: zone names in AOI {aoi_id!r} are not unique")
    sources = props.get("sources", ())
    return Aoi(
        id=aoi_id,
        name=str(props.get("name", aoi_id)),
        kind=cast(AoiKind, kind),
        geometry=outline,
        zones=tuple(zones),
        sources=tuple(str(s) for s in (sources if isinstance(sources, list) else [sources])),
        tracks=tuple(tracks),
    )


def load_aoi(path: Path | str) -> Aoi:
    """Read and validate one AOI GeoJSON file.

    Raises:
        InvalidAoiError: the file is missing, not JSON, or not a valid AOI.
    """
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidAoiError(f"AOI file {str(path)!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidAoiError(f"cannot read AOI file {str(path)!r}: {exc}") from None
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, huge numbers, deep nesting
        raise InvalidAoiError(f"AOI file {str(path)!r} is not valid JSON: {exc}") from None
    return parse_aoi(doc, default_id=path.stem, where=str(path))


def load_aois(aoi_dir: Path) -> list[Aoi]:
    """Every ``*.geojson`` AOI in a folder, sorted by id, ids unique.

    Raises:
        InvalidAoiError: a file is invalid, or two files share an id.
    """
    aois = [load_aoi(p) for p in sorted(Path(aoi_dir).glob("*.geojson"))]
    seen: dict[str, int] = {}
    for aoi in aois:
        seen[aoi.id] = seen.get(aoi.id, 0) + 1
    duplicated = sorted(i for i, n in seen.items() if n > 1)
    if duplicated:
        raise InvalidAoiError(f"{aoi_dir}: AOI ids are not unique: {', '.join(duplicated)}")
    return sorted(aois, key=lambda a: a.id)


def resolve_aoi(spec: str, aoi_dir: Path) -> Aoi:
    """Resolve ``--aoi``: an id from ``aoi_dir``, or a path to a GeoJSON file.

    Raises:
        InvalidAoiError: no such id and no such file, or the file is invalid.
    """
    if spec.endswith((".geojson", ".json")) or "/" in spec or Path(spec).is_file():
        return load_aoi(spec)
    if not is_aoi_id(spec):
        raise InvalidAoiError(f"unknown AOI {spec!r}: not a known id and not a GeoJSON path")
    candidate = Path(aoi_dir) / f"{spec}.geojson"
    if candidate.is_file():
        return load_aoi(candidate)
    known = ", ".join(a.id for a in load_aois(aoi_dir)) or "none"
    raise InvalidAoiError(f"unknown AOI id {spec!r}; known ids in {aoi_dir}: {known}")


def resolve_aois(specs: Iterable[str], aoi_dir: Path) -> list[Aoi]:
    """Resolve several ``--aoi`` values; none means every AOI in ``aoi_dir``."""
    specs = list(specs)
    if not specs:
        return load_aois(aoi_dir)
    return [resolve_aoi(s, aoi_dir) for s in specs]
