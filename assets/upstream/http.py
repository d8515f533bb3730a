"""The HTTP connector: bounded, retried, conditional GETs of an upstream URL, with zip members."""

from __future__ import annotations

import http.client
import io
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from dataclasses import dataclass

import dagster as dg

MIRROR_ENV = "OUTLOOK_UPSTREAM_MIRROR"
CHUNK_BYTES = 1 << 16


class FetchError(Exception):
    """A fetch that did not yield a usable payload; the message names dataset, URL and reason."""

    def __init__(self, dataset: str, url: str, reason: str):
        super().__init__(f"{dataset}: {url}: {reason}")
        self.dataset = dataset
        self.url = url
        self.reason = reason


class _Retryable(Exception):
    """A failure worth retrying (5xx, timeout, connection dropped, body cut short)."""


@dataclass(frozen=True)
class Fetched:
    """One HTTP answer: 200 with the payload, or 304 (unchanged) without one."""

    url: str
    status: int
    payload: bytes | None
    etag: str | None
    last_modified: str | None
    attempts: int


class UpstreamHttp(dg.ConfigurableResource):
    """Fetches upstream files: timeouts, retries with exponential backoff on 5xx and timeouts,
    conditional GET (ETag / If-Modified-Since), a size cap, and zip members taken by name."""

    timeout_s: float = 60.0
    max_attempts: int = 4
    backoff_s: float = 2.0
    max_bytes: int = 64 * 1024 * 1024
    #: Base URL that replaces the scheme and host of every official URL (a mirror or a test server).
    mirror: str = ""
    user_agent: str = "compute-outlook/0.1 (+https://github.com; data pipeline)"

    def resolve(self, url: str) -> str:
        """The URL actually requested: the official one, or its path under the mirror."""
        if not self.mirror:
            return url
        parts = urllib.parse.urlsplit(url)
        tail = f"{parts.netloc}{parts.path}" + (f"?{parts.query}" if parts.query else "")
        return f"{self.mirror.rstrip('/')}/{tail}"

    def get(
        self,
        dataset: str,
        url: str,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> Fetched:
        """GETs a URL (conditionally when etag / last_modified are given), retrying transient
        failures; raises FetchError naming the dataset, URL and reason otherwise."""
        target = self.resolve(url)
        headers = {"User-Agent": self.user_agent, "Accept-Encoding": "identity"}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        last_reason = ""
        for attempt in range(1, self.max_attempts + 1):
            try:
                return self._once(dataset, target, headers, attempt)
            except _Retryable as exc:
                last_reason = str(exc)
                if attempt < self.max_attempts:
                    time.sleep(self.backoff_s * 2 ** (attempt - 1))
        raise FetchError(
            dataset, target, f"{last_reason} (gave up after {self.max_attempts} attempts)"
        )

    def _once(self, dataset: str, url: str, headers: dict, attempt: int) -> Fetched:
        request = urllib.request.Request(url, headers=headers)
        try:
            response = urllib.request.urlopen(request, timeout=self.timeout_s)
        except urllib.error.HTTPError as exc:
            if exc.code == 304:
                return Fetched(
                    url,
                    304,
                    None,
                    exc.headers.get("ETag"),
                    exc.headers.get("Last-Modified"),
                    attempt,
                )
            if exc.code >= 500:
                raise _Retryable(f"HTTP {exc.code} {exc.reason}") from exc
            raise FetchError(dataset, url, f"HTTP {exc.code} {exc.reason}") from exc
        except TimeoutError as exc:
            raise _Retryable(f"timed out after {self.timeout_s:g} s") from exc
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                raise _Retryable(f"timed out after {self.timeout_s:g} s") from exc
            if isinstance(exc.reason, ConnectionError):
                raise _Retryable(f"connection failed: {exc.reason}") from exc
            raise FetchError(dataset, url, f"cannot connect: {exc.reason}") from exc
        with response:
            declared = response.headers.get("Content-Length")
            if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
                raise FetchError(
                    dataset,
                    url,
                    f"payload of {int(declared):,} bytes exceeds the cap of {self.max_bytes:,}",
                )
            payload = self._read_capped(dataset, url, response)
            content_type = response.headers.get("Content-Type", "")
            if "html" in content_type.lower() or looks_like_html(payload):
                raise FetchError(
                    dataset,
                    url,
                    f"HTTP {response.status} served an HTML page ({content_type or 'no Content-Type'}), "
                    "not the data file",
                )
            return Fetched(
                url,
                response.status,
                payload,
                response.headers.get("ETag"),
                response.headers.get("Last-Modified"),
                attempt,
            )

    def _read_capped(self, dataset: str, url: str, response) -> bytes:
        buffer = bytearray()
        try:
            while True:
                chunk = response.read(CHUNK_BYTES)
                if not chunk:
                    break
                buffer += chunk
                if len(buffer) > self.max_bytes:
                    raise FetchError(
                        dataset, url, f"payload exceeds the cap of {self.max_bytes:,} bytes"
                    )
        except http.client.IncompleteRead as exc:
            raise _Retryable(
                f"body cut short: {len(buffer) + len(exc.partial):,} bytes received, "
                f"{response.headers.get('Content-Length')} declared"
            ) from exc
        except TimeoutError as exc:
            raise _Retryable(
                f"timed out after {self.timeout_s:g} s while reading the body"
            ) from exc
        declared = response.headers.get("Content-Length")
        if declared is not None and declared.isdigit() and len(buffer) != int(declared):
            raise _Retryable(f"body cut short: {len(buffer):,} bytes received, {declared} declared")
        return bytes(buffer)

    def zip_member(self, dataset: str, url: str, archive: bytes, member: str) -> bytes:
        """The bytes of one named member of a zip payload; FetchError if absent or too large."""
        try:
            with zipfile.ZipFile(io.BytesIO(archive)) as bundle:
                names = bundle.namelist()
                matches = [n for n in names if n == member or n.rsplit("/", 1)[-1] == member]
                if not matches:
                    raise FetchError(
                        dataset,
                        url,
                        f"zip has no member '{member}' (members: {', '.join(names) or 'none'})",
                    )
                info = bundle.getinfo(matches[0])
                if info.file_size > self.max_bytes:
                    raise FetchError(
                        dataset,
                        url,
                        f"zip member '{member}' of {info.file_size:,} bytes exceeds the cap of "
                        f"{self.max_bytes:,}",
                    )
                return bundle.read(info)
        except zipfile.BadZipFile as exc:
            raise FetchError(dataset, url, f"not a valid zip archive: {exc}") from exc

    @classmethod
    def from_env(cls) -> UpstreamHttp:
        """The connector configured from the environment (``$OUTLOOK_UPSTREAM_MIRROR``)."""
        import os

        return cls(mirror=os.environ.get(MIRROR_ENV, ""))


def looks_like_html(payload: bytes) -> bool:
    """Whether a payload is an HTML document (an error or login page served with status 200)."""
    head = payload[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html", b"<head", b"<body"))
