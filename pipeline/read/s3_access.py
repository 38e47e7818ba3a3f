"""How an ``s3://`` href is read: requester-pays buckets, their credentials, their GDAL options.

Earth Search's ``sentinel-2-l1c`` items point at JPEG 2000 files in Sinergise's bucket
``s3://sentinel-s2-l1c/tiles/...`` (``sentinel-s2-l2a`` likewise holds Level-2A JPEG 2000).
Those buckets are *requester pays*: S3 answers 403 to an anonymous request and to a signed
one that does not accept the charge. GDAL reads them through ``/vsis3/`` when

- ``AWS_REQUEST_PAYER=requester`` is set for the read (:func:`s3_read_options` returns it,
  with the bucket's region, and keeps JPEG 2000 decoding in the reading thread), and
- credentials are in the environment: ``AWS_ACCESS_KEY_ID`` + ``AWS_SECRET_ACCESS_KEY``
  (+ ``AWS_SESSION_TOKEN``), or ``AWS_PROFILE`` naming a profile of the AWS credentials
  file. GDAL reads them itself; rason-watch never holds, passes or logs them.

Without credentials GDAL would first ask the EC2 instance-metadata service on the network
for some, then fail with a message that does not mention requester pays. So the check is
made here, before anything is opened, and fails with :class:`MissingS3CredentialsError`
naming the variables to set. Other ``s3://`` hrefs get no options: CDSE's ``eodata`` hrefs
are presigned by their source before the read (:mod:`pipeline.sources.cdse`).

Pure: reads only the :attr:`~pipeline.config.Settings.aws_env` snapshot it is given.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from pipeline.errors import ReadError
from pipeline.geo.redaction import redact

#: Requester-pays buckets of Sentinel-2 data, and their region (signing needs it).
REQUESTER_PAYS_BUCKETS: Final = {
    "sentinel-s2-l1c": "eu-central-1",
    "sentinel-s2-l2a": "eu-central-1",
}
#: JPEG 2000 tiles are decoded in the reading thread. GDAL's decoder threads open handles of
#: their own, and they do not see the options rasterio sets in a thread other than the main
#: one (there they are thread-local): their requests would go without the payer header, and
#: S3 answers 403 (measured: ``tests/integration/test_read_jp2.py``).
DECODE_THREADS: Final = "1"
#: A key pair is enough; so is a named profile.
_KEY_PAIR: Final = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
_PROFILE: Final = "AWS_PROFILE"


class MissingS3CredentialsError(ReadError):
    """A requester-pays ``s3://`` href is to be read and the environment has no AWS
    credentials (nothing was opened)."""


def bucket_of(href: str) -> str | None:
    """The bucket of an ``s3://bucket/key`` or ``/vsis3/bucket/key`` href; None otherwise."""
    for prefix in ("s3://", "/vsis3/"):
        if href.startswith(prefix):
            return href[len(prefix) :].split("/", 1)[0] or None
    return None


def requester_pays(href: str) -> bool:
    """Whether ``href`` lies in a known requester-pays bucket."""
    return bucket_of(href) in REQUESTER_PAYS_BUCKETS


def has_credentials(aws_env: Mapping[str, str]) -> bool:
    """Whether ``aws_env`` names credentials GDAL can sign with (key pair or profile)."""
    return all(aws_env.get(k) for k in _KEY_PAIR) or bool(aws_env.get(_PROFILE))


def s3_read_options(href: str, aws_env: Mapping[str, str]) -> dict[str, str]:
    """The GDAL options one read of ``href`` needs beyond the run's ``gdal_env``.

    Args:
        href: the href about to be read (after signing).
        aws_env: :attr:`pipeline.config.Settings.aws_env`.

    Returns:
        ``AWS_REQUEST_PAYER=requester``, ``GDAL_NUM_THREADS=1`` (:data:`DECODE_THREADS`)
        and ``AWS_REGION=<the bucket's region>`` for a requester-pays bucket (no
        ``AWS_REGION`` when ``AWS_S3_ENDPOINT`` names another S3 service); ``{}`` for every
        other href.

    Raises:
        MissingS3CredentialsError: a requester-pays href and no credentials in ``aws_env``.
    """
    bucket = bucket_of(href)
    if bucket not in REQUESTER_PAYS_BUCKETS:
        return {}
    if not has_credentials(aws_env):
        missing = [k for k in _KEY_PAIR if not aws_env.get(k)]
        raise MissingS3CredentialsError(
            f"cannot read {redact(href)}: s3://{bucket} is a requester-pays bucket (reads "
            f"are billed to your AWS account) and {' and '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not set; set AWS_ACCESS_KEY_ID and "
            f"AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN), or {_PROFILE}, in the environment "
            "(rason-watch sets AWS_REQUEST_PAYER=requester for these reads itself)"
        )
    options = {"AWS_REQUEST_PAYER": "requester", "GDAL_NUM_THREADS": DECODE_THREADS}
    if not aws_env.get("AWS_S3_ENDPOINT"):  # AWS itself: sign for the bucket's region
        options["AWS_REGION"] = REQUESTER_PAYS_BUCKETS[bucket]
    return options
