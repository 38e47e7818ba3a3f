"""Matplotlib set-up shared by the report's figures: style, figures, PNG bytes.

Figures are plain :class:`matplotlib.figure.Figure` objects rendered by the Agg canvas,
never pyplot: no global figure registry, no display needed, nothing left open.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Final, cast

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

#: Resolution of embedded figures: sharp on high-density screens, a few hundred kB each.
DPI: Final = 130
#: Colours used across figures, so the legend means the same thing everywhere.
COLOURS: Final = {
    "ink": "#1f2328",
    "muted": "#8c959f",
    "clear": "#0b5cad",
    "cloudy": "#b6c2cf",
    "baseline": "#dde7f2",
    "window": "#fde7c4",
    "onset": "#c2410c",
    "osint": "#7c3aed",
    "level": "#24292f",
    "before": "#6e7781",
    "after": "#e8590c",
    "aoi": "#1f2328",
}
STYLE: Final[dict[str, Any]] = {
    "font.family": "DejaVu Sans",
    "font.size": 9.5,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#8c959f",
    "axes.grid": True,
    "grid.color": "#eaeef2",
    "grid.linewidth": 0.8,
    "legend.frameon": False,
    "legend.fontsize": 8.5,
    "text.usetex": False,
}


def plain(value: object) -> str:
    """Text for matplotlib from data: ``$`` would start mathtext, so it is escaped."""
    return str(value).replace("$", r"\$")


@contextmanager
def report_style() -> Iterator[None]:
    """Apply :data:`STYLE` while artists are created (they read rcParams then)."""
    with matplotlib.rc_context(cast(Any, STYLE)):
        yield


def new_figure(width_in: float, height_in: float) -> Figure:
    """A figure on an Agg canvas (call inside :func:`report_style`)."""
    fig = Figure(figsize=(width_in, height_in), dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def jpeg_bytes(fig: Figure, *, quality: int = 85) -> bytes:
    """Render ``fig`` to JPEG bytes: for imagery, a tenth of the PNG's size."""
    buffer = io.BytesIO()
    with report_style():
        fig.savefig(
            buffer,
            format="jpg",
            dpi=DPI,
            facecolor="white",
            pil_kwargs={"quality": quality, "optimize": True},
        )
    return buffer.getvalue()


def png_bytes(fig: Figure) -> bytes:
    """Render ``fig`` to PNG bytes."""
    buffer = io.BytesIO()
    with report_style():
        fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight", facecolor="white")
    return buffer.getvalue()
