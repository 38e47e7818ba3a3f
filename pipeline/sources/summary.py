"""A scene's fields as plain JSON: what ``rasonwatch scenes --json`` prints and the store keeps."""

from __future__ import annotations

from pipeline.types import Scene


def scene_summary(scene: Scene) -> dict[str, object]:
    """The fields of a scene that ``rasonwatch scenes --json`` prints."""
    return {
        "id": scene.id,
        "datetime": scene.datetime.isoformat().replace("+00:00", "Z"),
        "platform": scene.platform,
        "tile": scene.tile,
        "epsg": scene.epsg,
        "processing_baseline": scene.processing_baseline,
        "cloud_cover": scene.cloud_cover,
        "collection": scene.collection,
        "level": scene.level,
        "source": scene.source,
        "offset_rule": scene.offset_rule,
        "simulated": scene.simulated,
        "assets": {
            band: {"href": a.href, "scale": a.scale, "offset": a.offset}
            for band, a in scene.assets.items()
        },
    }
