"""RGB quicklooks of a rendered site, for eyeballing the simulator's realism."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw

from pipeline.simulate.render import RenderedScene


def quicklook_rgb(
    scene: RenderedScene, aoi: str, *, top: float = 0.3, gamma: float = 1.7
) -> NDArray[np.uint8]:
    """True-colour ``(rows, cols, 3)`` image of a site's region (red, green, blue bands).

    Args:
        scene: A rendered scene.
        aoi: AOI id of the site.
        top: Reflectance shown as full white.
        gamma: Display gamma (brightens the dark land and water).
    """
    refl = scene.sites[aoi].reflectance
    rgb = np.stack([refl[2], refl[1], refl[0]], axis=-1)
    scaled = np.clip(rgb / top, 0.0, 1.0) ** (1.0 / gamma)
    image: NDArray[np.uint8] = (scaled * 255 + 0.5).astype(np.uint8)
    return image


def save_quicklook(scene: RenderedScene, aoi: str, path: Path, *, zoom: int = 1) -> Path:
    """Write a PNG quicklook of one site, labelled SIMULATED with the scene and its truth."""
    image = Image.fromarray(quicklook_rgb(scene, aoi))
    if zoom > 1:
        image = image.resize((image.width * zoom, image.height * zoom), Image.Resampling.NEAREST)
    truth = scene.truth[aoi]
    label = (
        f"SIMULATED  {scene.info.item_id}  {aoi}  ships={len(truth.ships)} "
        f"railcars={truth.railcars} clear={truth.clear_fraction:.2f}"
    )
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 8 + 6 * len(label), 14), fill=(0, 0, 0))
    draw.text((4, 2), label, fill=(255, 255, 0))
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)
    return path
