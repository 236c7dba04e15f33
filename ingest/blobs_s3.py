"""The blob store in an S3-compatible bucket (AWS S3, MinIO, Ceph RGW, ...).

Objects live under ``<prefix>/ab/cd/<sha256>``, the same layout as ``LocalBlobStore``, so a
folder of blobs can be synced to a bucket as it is. Credentials come from boto3's usual chain
(``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY`` / ``AWS_SESSION_TOKEN``, ``AWS_PROFILE``, an
instance or pod role); the region from ``AWS_DEFAULT_REGION``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from loupe.ingest.blobs import check_key, content_key, verified
from loupe.search.errors import NotFound, Unavailable

_MISSING_CODES = frozenset({"404", "NoSuchKey", "NotFound"})


def _client_error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


class S3BlobStore:
    """Blobs as objects of one bucket. Implements ``ingest.blobs.BlobStore``.

    ``put`` asks for the object first (HEAD) and uploads only when it is absent, so storing
    the same bytes twice costs one request and never rewrites. A missing object is
    ``NotFound``; an unreachable endpoint, a missing bucket or refused credentials are
    ``Unavailable`` (transient from the caller's point of view: retry or alert). boto3 clients
    are thread-safe, so one store may be shared by threads.
    """

    def __init__(self, client: Any, *, bucket: str, prefix: str = "") -> None:
        if not bucket:
            raise ValueError("S3BlobStore needs a bucket")
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/")

    @classmethod
    def from_url(cls, url: str, *, endpoint_url: str | None = None) -> S3BlobStore:
        """A store for ``s3://bucket/prefix``; ``endpoint_url`` for MinIO and friends."""
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc:
            raise ValueError("a blob URL looks like s3://bucket/prefix")
        config = Config(
            connect_timeout=5,
            read_timeout=60,
            retries={"max_attempts": 3, "mode": "standard"},
            # Path-style addressing works with every S3-compatible server; virtual hosts don't.
            s3={"addressing_style": "path" if endpoint_url else "auto"},
        )
        client = boto3.session.Session().client("s3", endpoint_url=endpoint_url, config=config)
        return cls(client, bucket=parts.netloc, prefix=parts.path)

    def object_key(self, key: str) -> str:
        """The object name of blob ``key``: ``<prefix>/ab/cd/<key>``."""
        check_key(key)
        tail = f"{key[:2]}/{key[2:4]}/{key}"
        return f"{self.prefix}/{tail}" if self.prefix else tail

    def put(self, data: bytes) -> str:
        key = content_key(data)
        if self.exists(key):
            return key
        try:
            self.client.put_object(
                Bucket=self.bucket,
                Key=self.object_key(key),
                Body=data,
                ContentType="application/octet-stream",
            )
        except (ClientError, BotoCoreError) as error:
            raise self._unavailable(error) from error
        return key

    def get(self, key: str) -> bytes:
        try:
            reply = self.client.get_object(Bucket=self.bucket, Key=self.object_key(key))
            body: bytes = reply["Body"].read()
        except ClientError as error:
            if _client_error_code(error) in _MISSING_CODES:
                raise NotFound(f"no blob {key}") from None
            raise self._unavailable(error) from error
        except BotoCoreError as error:
            raise self._unavailable(error) from error
        return verified(key, body)

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self.object_key(key))
        except ClientError as error:
            if _client_error_code(error) in _MISSING_CODES:
                return False
            raise self._unavailable(error) from error
        except BotoCoreError as error:
            raise self._unavailable(error) from error
        return True

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self.object_key(key))
        except ClientError as error:
            if _client_error_code(error) not in _MISSING_CODES:
                raise self._unavailable(error) from error
        except BotoCoreError as error:
            raise self._unavailable(error) from error

    @staticmethod
    def _unavailable(error: ClientError | BotoCoreError) -> Unavailable:
        if isinstance(error, ClientError):
            code = _client_error_code(error) or "unknown"
            return Unavailable(f"the blob store refused the request ({code})")
        return Unavailable("the blob store cannot be reached")
