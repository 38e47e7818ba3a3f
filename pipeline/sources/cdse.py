"""Copernicus Data Space Ecosystem (CDSE) STAC: the best product of each date.

For every date of a search, in order of preference (the rule shared by every source,
:func:`pipeline.sources.per_date.best_per_date`):

1. ``sentinel-2-l2a``: surface reflectance with SCL (CDSE serves ESA's reprocessed
   Level-2A where it exists);
2. ``sentinel-2-l1c``, for the dates with no Level-2A (before December 2018, ESA made
   Level-2A only over Europe): ``level="L1C"`` scenes, top of atmosphere, no SCL. Its
   band assets are ``B02`` ... ``B11`` (one resolution each) in the SAFE layout
   (``.../GRANULE/L1C_T52TFM_.../IMG_DATA/T52TFM_..._B02.jp2``).

Searching is anonymous; ``CDSE_STAC_URL`` in the environment points the search at another
STAC API root (a mirror, or a test server).

The assets are JPEG 2000 files in the ``eodata`` S3 bucket
(``s3://eodata/Sentinel-2/...``) and reading them needs CDSE S3 credentials (create them at
https://eodata-s3keysmanager.dataspace.copernicus.eu). :meth:`CdseSource.sign` turns each
``s3://`` href into a presigned HTTPS URL of ``eodata.dataspace.copernicus.eu`` just before
the read, so GDAL reads it with ``/vsicurl/`` and no AWS options leak into the GDAL
configuration of the process. Credentials come from the environment, first
``CDSE_S3_ACCESS_KEY`` / ``CDSE_S3_SECRET_KEY``, else ``AWS_ACCESS_KEY_ID`` /
``AWS_SECRET_ACCESS_KEY`` (+ ``AWS_SESSION_TOKEN``); they are never logged, and signed
query strings are redacted from every error message.

CDSE items are STAC 1.1 with ``raster:scale`` / ``raster:offset`` on each asset: the offset
follows that metadata, else the processing baseline (N0400 and later: -0.1; Level-1C DNs
carry the same +1000 from baseline 04.00 as Level-2A ones).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Final

from pipeline.errors import ReadError
from pipeline.geo.redaction import install_log_redaction, redact
from pipeline.sources.per_date import Rung, search_best_per_date
from pipeline.sources.s3presign import presign_get
from pipeline.sources.stac_api import DEFAULT_PAGE_SIZE, StacApiSource
from pipeline.types import Aoi, Scene

CDSE_STAC_URL: Final = "https://stac.dataspace.copernicus.eu/v1"
COLLECTION: Final = "sentinel-2-l2a"
L1C_COLLECTION: Final = "sentinel-2-l1c"
#: The products of each date, best first.
RUNGS: Final = (Rung((COLLECTION,), "L2A"), Rung((L1C_COLLECTION,), "L1C"))
#: S3 endpoint of the eodata bucket (path-style addressing).
CDSE_S3_ENDPOINT: Final = "https://eodata.dataspace.copernicus.eu"
#: CDSE's S3 service signs with this region name.
CDSE_S3_REGION: Final = "default"
#: Presigned URLs live this long: longer than any single chip read.
PRESIGN_EXPIRES_S: Final = 3600
KEY_VARS: Final = (
    ("CDSE_S3_ACCESS_KEY", "CDSE_S3_SECRET_KEY"),
    ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"),
)


@dataclass(frozen=True)
class S3Credentials:
    """An access key pair; ``repr`` never shows the secret."""

    access_key: str = field(repr=False)
    secret_key: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> S3Credentials | None:
        """The first complete pair of :data:`KEY_VARS` in ``env``, or None."""
        for access_var, secret_var in KEY_VARS:
            access, secret = env.get(access_var, "").strip(), env.get(secret_var, "").strip()
            if access and secret:
                token = env.get("AWS_SESSION_TOKEN") if access_var.startswith("AWS_") else None
                return cls(access, secret, token or None)
        return None


class CdseSource:
    """CDSE STAC search; reads via presigned HTTPS URLs when credentials are present.

    Args:
        env: where credentials, ``CDSE_S3_ENDPOINT`` and ``CDSE_STAC_URL`` are looked up
            (``os.environ`` at the entry point; never read deeper inside).
        url: STAC API root (default: ``CDSE_STAC_URL`` from ``env``, else CDSE's).
        page_size: items per page.
        max_items: stop paging after this many items (None: every page).
    """

    name: str = "cdse"

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        url: str | None = None,
        page_size: int | None = DEFAULT_PAGE_SIZE,
        max_items: int | None = None,
    ) -> None:
        env = env or {}
        self.credentials = S3Credentials.from_env(env)
        self.endpoint = env.get("CDSE_S3_ENDPOINT", CDSE_S3_ENDPOINT).rstrip("/")
        self.api = StacApiSource(
            url or env.get("CDSE_STAC_URL", "").strip() or CDSE_STAC_URL,
            name=self.name,
            open_root=False,
            page_size=page_size,
            max_items=max_items,
        )

    def search(self, aoi: Aoi, start: date, end: date) -> list[Scene]:
        """The best product of each date over ``aoi`` on ``start..end`` (module docstring;
        no credentials needed).

        Raises:
            InvalidDateRangeError: ``end`` is before ``start``.
            SourceError: the API is unreachable or answers an error for Level-2A (a failing
                Level-1C search is logged, and its dates show as gaps).
        """
        return search_best_per_date(self.api, aoi, start, end, RUNGS)

    def sign(self, href: str) -> str:
        """A presigned HTTPS URL for an ``s3://`` href; other hrefs unchanged.

        Raises:
            ReadError: the href is in S3 and no credentials are in the environment.
        """
        if not href.startswith("s3://"):
            return href
        if self.credentials is None:
            names = " or ".join(" + ".join(pair) for pair in KEY_VARS)
            raise ReadError(
                f"cannot read {href}: CDSE S3 needs credentials; set {names} "
                "(keys from https://eodata-s3keysmanager.dataspace.copernicus.eu)"
            )
        install_log_redaction()  # GDAL's own messages about the signed URL go to logging
        bucket_and_key = href[len("s3://") :]
        try:
            return presign_get(
                f"{self.endpoint}/{bucket_and_key}",
                access_key=self.credentials.access_key,
                secret_key=self.credentials.secret_key,
                session_token=self.credentials.session_token,
                region=CDSE_S3_REGION,
                expires_s=PRESIGN_EXPIRES_S,
            )
        except ValueError as exc:  # a malformed CDSE_S3_ENDPOINT or href
            raise ReadError(f"cannot presign {redact(href)}: {exc}") from None

    def __repr__(self) -> str:
        """Endpoint and whether keys are set, never the keys."""
        keys = "set" if self.credentials is not None else "not set"
        return f"CdseSource(api={self.api.url!r}, endpoint={self.endpoint!r}, credentials {keys})"
