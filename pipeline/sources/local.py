"""A local folder or static STAC catalog: what ``rasonwatch simulate`` writes, or any other.

Accepted: a folder holding ``catalog.json`` (or ``collection.json``, or ``items.ndjson``,
or else any ``*.json`` STAC items below it); or a path to one of those files, or to a
GeoJSON FeatureCollection of items. Catalog and collection ``child``/``item`` links are
followed. Relative asset hrefs are resolved against the file that holds the item (for an
ndjson line: its ``self`` link when absolute, else the ndjson's folder) and become absolute
paths; URLs stay as they are. Items are filtered by AOI intersection and UTC date before
they are normalised; each date keeps its best product (Level-2A, else Level-1C:
:func:`pipeline.sources.per_date.best_per_date`), then scenes are de-duplicated like every
other source.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Mapping
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from shapely.geometry import box
from shapely.geometry.base import BaseGeometry

from pipeline.errors import SourceError
from pipeline.sources.base import check_range
from pipeline.sources.dedupe import dedupe
from pipeline.sources.normalise import item_footprint
from pipeline.sources.per_date import best_per_date, by_level
from pipeline.sources.stac_api import collect, warn_skipped
from pipeline.types import Aoi, Scene

_ROOT_FILES = ("catalog.json", "collection.json", "items.ndjson")


def _is_url(href: str) -> bool:
    return "://" in href and not href.startswith("file://")


def _local_path(href: str, base: Path) -> Path:
    if href.startswith("file://"):
        return Path(unquote(urlsplit(href).path))
    path = Path(href)
    return path if path.is_absolute() else (base / path).resolve()


def _list(value: Any) -> list[Any]:
    """``value`` when it is a JSON array, else an empty list (hostile files hold anything)."""
    return value if isinstance(value, list) else []


def _objects(value: Any) -> list[Mapping[str, Any]]:
    """The JSON objects of ``value`` when it is a JSON array."""
    return [v for v in _list(value) if isinstance(v, Mapping)]


def _resolve_asset(asset: Any, base: Path) -> Any:
    """A copy of ``asset`` with a relative href made absolute (anything else unchanged)."""
    if not isinstance(asset, Mapping):
        return asset
    out = dict(asset)
    href = out.get("href")
    if isinstance(href, str) and href and not _is_url(href):
        with contextlib.suppress(ValueError):  # an embedded NUL: kept, its read fails
            out["href"] = str(_local_path(href, base))
    return out


def resolve_assets(item: Any, base: Path) -> dict[str, Any]:
    """A copy of ``item`` whose relative asset hrefs are absolute paths under ``base``.

    Something that is not a JSON object becomes an empty item, which the normaliser then
    refuses with a reason (counted among the skipped items, never a crash).
    """
    if not isinstance(item, Mapping):
        return {}
    out = dict(item)
    assets = item.get("assets")
    out["assets"] = (
        {key: _resolve_asset(a, base) for key, a in assets.items()}
        if isinstance(assets, Mapping)
        else {}
    )
    return out


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:  # also huge numbers, deep nesting
        raise SourceError(f"cannot read STAC file {path}: {exc}") from None


def _self_dir(item: Any) -> Path | None:
    if not isinstance(item, Mapping):
        return None
    for link in _objects(item.get("links")):
        href = str(link.get("href", ""))
        if link.get("rel") == "self" and (href.startswith("file://") or Path(href).is_absolute()):
            return _local_path(href, Path("/")).parent
    return None


def _from_document(doc: Any, path: Path, seen: set[Path]) -> Iterator[dict[str, Any]]:
    kind = doc.get("type") if isinstance(doc, dict) else None
    if kind == "Feature":
        yield resolve_assets(doc, path.parent)
    elif kind == "FeatureCollection":
        for feature in _list(doc.get("features")):
            yield resolve_assets(feature, path.parent)
    elif kind in ("Catalog", "Collection"):
        for link in _objects(doc.get("links")):
            href = str(link.get("href", ""))
            if link.get("rel") in ("child", "item") and href and not _is_url(href):
                yield from iter_items(_local_path(href, path.parent), seen)


def iter_items(path: Path, seen: set[Path] | None = None) -> Iterator[dict[str, Any]]:
    """Every STAC item reachable from ``path``, with absolute asset hrefs.

    Raises:
        SourceError: a file cannot be read or is not JSON.
    """
    seen = set() if seen is None else seen
    path = path.resolve()
    if path in seen:
        return
    seen.add(path)
    if path.is_dir():
        root = next((path / n for n in _ROOT_FILES if (path / n).is_file()), None)
        if root is not None:
            yield from iter_items(root, seen)
            return
        for candidate in sorted(path.rglob("*.json")):
            doc = _read_json(candidate)
            if isinstance(doc, dict) and doc.get("type") == "Feature":
                seen.add(candidate.resolve())
                yield resolve_assets(doc, candidate.parent)
        return
    if path.suffix == ".ndjson":
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except (ValueError, RecursionError) as exc:
                raise SourceError(f"{path}:{number}: not JSON: {exc}") from None
            yield resolve_assets(item, _self_dir(item) or path.parent)
        return
    yield from _from_document(_read_json(path), path, seen)


def _when(item: Mapping[str, Any]) -> date | None:
    props = item.get("properties")
    if not isinstance(props, Mapping):
        return None
    raw = props.get("datetime") or props.get("start_datetime")
    if not isinstance(raw, str) or len(raw) < 10:
        return None
    try:
        return date.fromisoformat(raw[:10])
    except ValueError:
        return None


def _footprint(item: Mapping[str, Any]) -> BaseGeometry | None:
    footprint = item_footprint(item)
    bbox = item.get("bbox")
    if footprint is None and isinstance(bbox, list) and len(bbox) == 4:
        try:
            west, south, east, north = (float(v) for v in bbox)
        except (TypeError, ValueError, OverflowError):  # a malformed bbox: no footprint
            return None
        footprint = box(west, south, east, north)
    return footprint


class LocalSource:
    """Scenes from a local STAC catalog or simulator output folder (read once, then cached).

    Args:
        root: folder or STAC file.

    Raises:
        SourceError: ``root`` does not exist.
    """

    name: str = "local"

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).expanduser()
        if not self.root.exists():
            raise SourceError(f"local source {str(self.root)!r} does not exist")
        self._items: list[dict[str, Any]] | None = None

    def __getstate__(self) -> dict[str, Any]:
        """Pickled without the parsed items (megabytes for a long archive): a Dask worker
        that gets the source with every task reads the catalog again only if it searches."""
        return {**self.__dict__, "_items": None}

    def items(self) -> list[dict[str, Any]]:
        """Every item under :attr:`root` (cached after the first call).

        Raises:
            SourceError: a file cannot be read, or there are no STAC items at all.
        """
        if self._items is None:
            self._items = list(iter_items(self.root))
            if not self._items:
                raise SourceError(f"local source {self.root}: no STAC items found")
        return self._items

    def search(self, aoi: Aoi, start: date, end: date) -> list[Scene]:
        """Scenes on ``start..end`` whose footprint touches ``aoi``, one per date.

        Raises:
            InvalidDateRangeError: ``end`` is before ``start``.
            SourceError: the catalog cannot be read.
        """
        check_range(start, end)
        chosen = []
        for item in self.items():
            when, footprint = _when(item), _footprint(item)
            if when is not None and not start <= when <= end:
                continue
            if footprint is not None and not footprint.intersects(aoi.geometry):
                continue
            chosen.append(item)
        found = collect(iter(chosen), source=self.name, allow_l1c=True)
        warn_skipped(found, where=f"local source {self.root}")
        best = best_per_date(by_level(found))  # Level-1C only where no Level-2A exists
        return dedupe(best.scenes, aoi, footprints=best.footprints)

    def sign(self, href: str) -> str:
        """Identity: local files need no signing."""
        return href
