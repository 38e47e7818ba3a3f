"""Ids become file and folder names only through here: one plain name each, never an escape.

AOI ids, scene ids and simulated item ids end up in paths (``chips/<aoi id>/<key>/<scene
id>.tif``, ``references/<aoi id>.npz``, ``quicklooks/<aoi id>.png``). Scene ids come from
STAC metadata, that is from whoever serves the catalogue, and are hostile input.

- :func:`join_inside` joins a root and names that must already be safe (AOI ids are
  checked when an AOI file is parsed) and refuses anything else;
- :func:`safe_name` maps any text (a scene id) onto a safe name: itself when it already is
  one, else a sanitised form with a hash of the original, so two ids never collide;
- :func:`check_output_dir` says, before anything is written, whether a folder can be
  created and written.

A *safe name* is 1-200 characters of ``A-Z a-z 0-9 . _ -`` starting with a letter or digit:
no separators (``/``, ``\\``), no NUL, never ``.`` or ``..``, never hidden.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Final

from pipeline.errors import OutputPathError, UnsafePathError

SAFE_NAME: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")
#: Longest sanitised part kept by :func:`safe_name` (the hash keeps names unique).
MAX_STEM: Final = 120
_UNSAFE_CHAR: Final = re.compile(r"[^A-Za-z0-9._-]")


def is_safe_name(name: object) -> bool:
    """Whether ``name`` is a safe single path component (see the module docstring)."""
    return isinstance(name, str) and SAFE_NAME.fullmatch(name) is not None


def check_name(name: str, *, what: str = "name") -> str:
    """``name`` itself when it is a safe single path component.

    Raises:
        UnsafePathError: it holds a separator, NUL, starts with a dot, is empty or too long.
    """
    if not is_safe_name(name):
        raise UnsafePathError(
            f"{what} {name!r} cannot be a file name: use 1-200 letters, digits, '.', '_' "
            "or '-', starting with a letter or digit"
        )
    return name


def join_inside(root: Path | str, *names: str, what: str = "name") -> Path:
    """``root / name / ...``, each name a safe single component, the result inside ``root``.

    The containment check is lexical (symlinks are not followed), so a cache folder that is
    a symlink to another disk keeps working.

    Raises:
        UnsafePathError: a name is not safe (see :func:`check_name`).
    """
    base = Path(root)
    path = base.joinpath(*(check_name(n, what=what) for n in names))
    inside = Path(os.path.normpath(path)).is_relative_to(Path(os.path.normpath(base)))
    if not inside:  # unreachable with checked names; kept as the invariant's guard
        raise UnsafePathError(f"{what} path {str(path)!r} escapes {str(base)!r}")
    return path


def safe_name(text: str, *, max_stem: int = MAX_STEM) -> str:
    """A safe name for any text: ``text`` when already safe and short, else sanitised + hash.

    ``S2A_T52TFM_20230804_L2A`` stays as it is; ``../../etc/x`` becomes
    ``.._.._etc_x-<8 hex>`` prefixed so that it starts with a hex digit when needed.
    """
    if is_safe_name(text) and len(text) <= max_stem:
        return text
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    cleaned = _UNSAFE_CHAR.sub("_", text)[:max_stem]
    candidate = f"{cleaned}-{digest}"
    return candidate if is_safe_name(candidate) else f"{digest}-{cleaned}"


def _nearest_existing(path: Path) -> Path:
    """``path`` or its closest ancestor that exists (``.`` for a relative path)."""
    current = path
    while not current.exists() and current.parent != current:
        current = current.parent
    return current


def check_output_dir(path: Path | str, *, what: str) -> None:
    """Refuse, before anything is written, a folder that cannot be created and written.

    Args:
        path: the folder (it may not exist yet).
        what: how the user named it, for the message (``--out``, ``--data-dir``).

    Raises:
        OutputPathError: it or an ancestor is a regular file, or the folder it would be
            created in (or it, when it exists) is not writable.
    """
    target = Path(path)
    existing = _nearest_existing(target)
    if not existing.is_dir():
        where = "it is a file" if existing == target else f"{str(existing)!r} is a file"
        raise OutputPathError(f"{what} {str(target)!r} cannot be a folder: {where}")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise OutputPathError(
            f"{what} {str(target)!r} cannot be written: {str(existing)!r} is read-only"
        )
