"""RGB quicklooks of chips, as PNG, with a SIMULATED banner where it applies."""

from __future__ import annotations

from pathlib import Path
from typing import Final

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw

from pipeline.types import Chip

#: Percentiles of valid pixels mapped to black and white: robust to glint and bright decks.
STRETCH_PERCENTILES: Final = (2.0, 98.0)
#: Display gamma: lifts dark water and vegetation so berths and tracks stay readable.
DISPLAY_GAMMA: Final = 1.0 / 1.8
#: Minimum output width; small chips are upsampled (nearest) so pixels stay visible.
MIN_WIDTH_PX: Final = 600


def rgb_array(chip: Chip) -> NDArray[np.uint8]:
    """Stretch red, green and blue of a chip into an 8-bit ``(rows, cols, 3)`` image."""
    rgb = np.stack([chip.band("red"), chip.band("green"), chip.band("blue")], axis=-1)
    valid = chip.valid & np.isfinite(rgb).all(axis=-1)
    if valid.any():
        low, high = np.percentile(rgb[valid], STRETCH_PERCENTILES)
    else:
        low, high = 0.0, 0.3
    scaled = np.clip((rgb - low) / max(float(high - low), 1e-6), 0.0, 1.0) ** DISPLAY_GAMMA
    image: NDArray[np.uint8] = (scaled * 255.0).astype(np.uint8)
    image[~valid] = 0
    return image


def write_quicklook(chip: Chip, path: Path, *, title: str, simulated: bool) -> Path:
    """Write a PNG quicklook of ``chip`` with a title line, and a SIMULATED banner if so.

    Returns:
        The path written.
    """
    image = Image.fromarray(rgb_array(chip), mode="RGB")
    if image.width < MIN_WIDTH_PX:
        factor = -(-MIN_WIDTH_PX // image.width)
        image = image.resize(
            (image.width * factor, image.height * factor), Image.Resampling.NEAREST
        )
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, image.width, 16), fill=(0, 0, 0))
    draw.text((4, 2), title, fill=(255, 255, 255))
    if simulated:
        banner = "SIMULATED DATA - not an observation"
        draw.rectangle((0, image.height - 22, image.width, image.height), fill=(200, 0, 0))
        draw.text((6, image.height - 18), banner, fill=(255, 255, 255))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.png")
    image.save(tmp, format="PNG")
    tmp.replace(path)
    return path
