"""AWS Signature Version 4 query-string presigning of S3 GET URLs (pure; stdlib only).

Used by the CDSE source to turn ``s3://eodata/...`` hrefs into time-limited HTTPS URLs
that GDAL's ``/vsicurl/`` reads like any other, so no AWS options leak into the process-wide
GDAL configuration. Follows "Authenticating Requests: Using Query Parameters (AWS Signature
Version 4)" of the Amazon S3 API reference, and reproduces its worked example.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

ALGORITHM = "AWS4-HMAC-SHA256"


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()


def presign_get(
    url: str,
    *,
    access_key: str,
    secret_key: str,
    region: str,
    expires_s: int = 3600,
    now: datetime | None = None,
    session_token: str | None = None,
) -> str:
    """A presigned ``GET`` URL for an object at ``url`` (``https://host/bucket/key``).

    Args:
        url: the object's HTTPS URL, path-style or virtual-hosted, without a query string.
        access_key: access key id.
        secret_key: secret access key (never logged, never part of the URL).
        region: signing region (``us-east-1``; CDSE uses ``default``).
        expires_s: validity in seconds (1-604800).
        now: signing time (UTC); defaults to the current time.
        session_token: optional temporary-credentials token.

    Raises:
        ValueError: the URL has a query string or no host, or ``expires_s`` is out of range.
    """
    parts = urlsplit(url)
    if parts.query or not parts.netloc or parts.scheme not in ("http", "https"):
        raise ValueError("presign_get needs an http(s) URL with a host and no query string")
    if not 1 <= expires_s <= 604_800:
        raise ValueError(f"expires_s must be 1..604800 seconds, got {expires_s}")
    when = (now or datetime.now(UTC)).astimezone(UTC)
    amz_date = when.strftime("%Y%m%dT%H%M%SZ")
    day = when.strftime("%Y%m%d")
    scope = f"{day}/{region}/s3/aws4_request"
    path = quote(parts.path or "/", safe="/-_.~")
    query = {
        "X-Amz-Algorithm": ALGORITHM,
        "X-Amz-Credential": f"{access_key}/{scope}",
        "X-Amz-Date": amz_date,
        "X-Amz-Expires": str(expires_s),
        "X-Amz-SignedHeaders": "host",
    }
    if session_token:
        query["X-Amz-Security-Token"] = session_token
    canonical_query = "&".join(
        f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(query.items())
    )
    canonical_request = "\n".join(
        ["GET", path, canonical_query, f"host:{parts.netloc}\n", "host", "UNSIGNED-PAYLOAD"]
    )
    string_to_sign = "\n".join(
        [ALGORITHM, amz_date, scope, hashlib.sha256(canonical_request.encode()).hexdigest()]
    )
    key = _hmac(f"AWS4{secret_key}".encode(), day)
    for part in (region, "s3", "aws4_request"):
        key = _hmac(key, part)
    signature = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    return f"{parts.scheme}://{parts.netloc}{path}?{canonical_query}&X-Amz-Signature={signature}"
