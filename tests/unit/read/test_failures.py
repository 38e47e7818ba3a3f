"""A failed read is classified once, where it fails, and the class travels with the error."""

from __future__ import annotations

import pickle

import pytest

from pipeline.errors import AoiOutsideSceneError, ReadError
from pipeline.read.retry import failure_kind
from pipeline.run.scene_work import MissingAssetError, TransientReadError, is_transient


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("HTTP response code: 503", "transient"),
        ("HTTP response code: 429", "transient"),
        ("HTTP response code: 403", "refused"),
        ("HTTP response code: 401", "refused"),
        ("HTTP response code: 404", "permanent"),
        ("Read failed: got 100 bytes, expected 4096", "truncated"),
        ("truncated body: got 3 bytes, expected 9 from http://x", "truncated"),
        ("'x.tif' not recognized as being in a supported file format", "not-tiff"),
        ("x.tif: No such file or directory", "permanent"),
        ("Connection reset by peer", "transient"),
    ],
)
def test_failure_kinds(message: str, kind: str) -> None:
    assert failure_kind(OSError(message))[0] == kind


def test_the_kind_travels_with_the_error_across_processes() -> None:
    error = ReadError("cannot read https://x/b.tif: HTTP response code: 503", kind="transient")
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is ReadError
    assert (str(back), back.kind, back.transient) == (str(error), "transient", True)
    batch = pickle.loads(pickle.dumps(TransientReadError("2 of 8 chips failed for now")))
    assert is_transient(batch)


def test_errors_are_told_apart_by_their_kind_not_their_words() -> None:
    assert not is_transient(ReadError("HTTP response code: 503 (but permanent by kind)"))
    assert is_transient(ReadError("anything", kind="truncated"))
    assert not is_transient(AoiOutsideSceneError("the AOI lies outside the raster"))
    assert not is_transient(MissingAssetError("missing asset nir"))
    with pytest.raises(ValueError, match="unknown read failure kind"):
        ReadError("x", kind="maybe")
