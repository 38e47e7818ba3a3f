"""A tiny HTML builder that escapes by construction.

Every string is text unless it is an :class:`Html` value, and the only ways to make one
are :func:`el` (a tag whose name and attribute names are literals in our code, and whose
attribute values and text children are escaped), :func:`raw` (for literal markup written
in this package, never for data) and :func:`join`. STAC metadata, scene ids, claim
quotes and OSINT labels therefore cannot inject markup: they only ever reach the page
through :func:`html.escape`.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Iterable
from typing import Final

_NAME: Final = re.compile(r"^[a-z][a-z0-9-]*$")
#: Elements without a closing tag.
_VOID: Final = frozenset({"br", "hr", "img", "meta", "col", "link"})


class Html(str):
    """Markup that is already safe: produced by :func:`el`, :func:`raw` or :func:`join`."""

    __slots__ = ()


def text(value: object) -> Html:
    """``value`` as escaped text (quotes included, so it is safe in attributes too)."""
    if isinstance(value, Html):
        return value
    return Html(html.escape("" if value is None else str(value), quote=True))


def raw(markup: str) -> Html:
    """Trust ``markup`` as HTML: only for literals written in this package."""
    return Html(markup)


def join(parts: Iterable[Html | str], sep: str = "") -> Html:
    """Concatenate fragments, escaping any that are not already :class:`Html`."""
    return Html(html.escape(sep).join(text(p) for p in parts))


def el(
    tag: str,
    *children: Html | str | int | float | None,
    **attrs: str | int | float | bool | None,
) -> Html:
    """``<tag attr="value">children</tag>``, with everything but ``Html`` children escaped.

    Attribute names use ``_`` for ``-`` (``data_verdict`` → ``data-verdict``) and a trailing
    ``_`` for Python keywords (``class_``). ``True`` writes a bare attribute; ``None`` and
    ``False`` leave it out.

    Raises:
        ValueError: a tag or attribute name is not a plain lower-case name, or an
            ``on*`` event-handler attribute is asked for (the report runs no scripts).
    """
    if not _NAME.match(tag) or tag == "script":
        raise ValueError(f"refusing tag {tag!r}")
    rendered = []
    for key, value in attrs.items():
        name = key.rstrip("_").replace("_", "-")
        if not _NAME.match(name) or name.startswith("on"):
            raise ValueError(f"refusing attribute {name!r}")
        if value is None or value is False:
            continue
        rendered.append(f" {name}" if value is True else f' {name}="{text(value)}"')
    opening = f"<{tag}{''.join(rendered)}>"
    if tag in _VOID:
        return Html(opening)
    inner = "".join(text(c) for c in children if c is not None)
    return Html(f"{opening}{inner}</{tag}>")


def data_uri(image: bytes) -> str:
    """A ``data:`` URI for an ``<img src>``: PNG or JPEG, told apart by the magic bytes."""
    mime = "image/png" if image.startswith(b"\x89PNG") else "image/jpeg"
    return f"data:{mime};base64," + base64.b64encode(image).decode("ascii")
