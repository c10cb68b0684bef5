"""`/dumps/`: the release's files with HTTP caching and byte ranges, and their listing (HTML or JSON).

A file's ETag is its SHA-256 (from the release inventory), so it changes exactly when the bytes do;
Last-Modified is the file's time. Conditional GETs answer 304; `If-Range` is honoured. Byte ranges
follow RFC 9110 section 14: `Range: bytes=` answers 206 (several ranges: `multipart/byteranges`,
overlapping ones merged, unsatisfiable ones dropped); a range that is invalid, or of which no byte
is in the file, answers 416 with a message; another range unit, or more than `MAX_RANGES` ranges,
is ignored (the whole file). Numbers of any length are read without converting them whole (Python
refuses to convert more than 4,300 digits). Starlette's FileResponse sends the bytes. Gzip files
are served as `application/gzip`, never as a Content-Encoding, so the bytes match SHA256SUMS.
"""
from __future__ import annotations

import re
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response

from kg.release.layout import media_type
from kg.release.layout import CHECKSUMS_FILE, sha256_of
from kg.server.conneg import HTML, JSON, choose_for
from kg.server.errors import error_response
from kg.server.views.site import Site

RANGE_SPEC = re.compile(r"([0-9]*)-([0-9]*)")  # first-pos "-" [last-pos], or "-" suffix-length
MAX_RANGES = FileResponse.max_ranges  # more ranges than this in one request are ignored
LISTING_FORMATS = (HTML, JSON)
RANGE_FORMS = "bytes=FIRST-LAST, bytes=FIRST- or bytes=-SUFFIX_LENGTH, several separated by commas"


class DumpFiles:
    """The files of the release's dumps/ folder with their validators."""

    def __init__(self, site: Site):
        self.folder = site.dumps
        inventory = dict(site.manifest.get("dumps", {}))
        checksums = self.folder / CHECKSUMS_FILE
        inventory[CHECKSUMS_FILE] = {"bytes": checksums.stat().st_size, "sha256": sha256_of(checksums)}
        self.files = {name: {**meta, "media_type": media_type(name),
                             "modified": (self.folder / name).stat().st_mtime}
                      for name, meta in sorted(inventory.items()) if (self.folder / name).is_file()}

    def listing(self, base: str) -> list[dict]:
        return [{"name": name, "url": f"{base}dumps/{name}", "bytes": meta["bytes"], "sha256": meta["sha256"],
                 "media_type": meta["media_type"]} for name, meta in self.files.items()]


def dumps_router(site: Site) -> APIRouter:
    router = APIRouter()
    dumps = DumpFiles(site)

    # HEAD as a route of its own, out of the OpenAPI document: a route with two methods gives both one operationId
    @router.api_route("/dumps", methods=["GET", "HEAD"], include_in_schema=False)
    @router.head("/dumps/", include_in_schema=False)
    @router.get("/dumps/")
    async def listing(request: Request) -> Response:
        """Every published file with size, media type and SHA-256: HTML, or JSON by Accept or `?format=json`."""
        chosen = choose_for(request, LISTING_FORMATS)  # NotAcceptable: answered 406 by kg.server.errors
        files = dumps.listing(site.base)
        headers = {"Vary": "Accept"}
        if chosen is JSON:
            return JSONResponse({"release": site.manifest["release"], "base": site.base, "files": files},
                                headers=headers)
        return HTMLResponse(site.render("dumps.html", files=files, title="Dumps"), headers=headers)

    @router.head("/dumps/{name}", include_in_schema=False)
    @router.get("/dumps/{name}")
    async def dump_file(name: str, request: Request) -> Response:
        """One published file, with ETag/Last-Modified validators and byte ranges."""
        meta = dumps.files.get(name)
        if meta is None:
            return error_response(404, f"no file {name!r} in this release; see /dumps/", request=request,
                                  site=site)
        return serve_file(dumps.folder / name, meta, request)

    return router


def serve_file(path: Path, meta: dict, request: Request) -> Response:
    """A file response honouring If-None-Match, If-Modified-Since, Range and If-Range."""
    etag = f'"{meta["sha256"]}"'
    last_modified = formatdate(meta["modified"], usegmt=True)
    headers = {"ETag": etag, "Last-Modified": last_modified, "Accept-Ranges": "bytes",
               "Cache-Control": "public, max-age=300"}
    if _not_modified(request, etag, meta["modified"]):
        return Response(status_code=304, headers=headers)
    ranges = None
    wanted = request.headers.get("range")
    if wanted and _if_range_holds(request, etag, last_modified):
        try:
            ranges = parse_range(wanted, meta["bytes"])
        except RangeNotSatisfiable as problem:
            return error_response(416, f"{problem} ({path.name} has {meta['bytes']} bytes)",
                                  {**headers, "Content-Range": f"bytes */{meta['bytes']}"}, request=request)
    return RangedFileResponse(path, ranges, headers=headers, media_type=meta["media_type"])


class RangeNotSatisfiable(Exception):
    """A `bytes` Range that is invalid or has no byte in the file: answered 416 (RFC 9110 section 14.2)."""


class RangedFileResponse(FileResponse):
    """Starlette's FileResponse sending the byte ranges decided here (None: the whole file).

    The request's Range is replaced by their canonical form before Starlette reads it, and If-Range
    (already evaluated) is removed, so Starlette's own, more lenient parsing never decides anything.
    """

    def __init__(self, path: Path, ranges: list[tuple[int, int]] | None, **kwargs) -> None:
        super().__init__(path, **kwargs)
        self.ranges = ranges

    async def __call__(self, scope, receive, send) -> None:
        headers = [(name, value) for name, value in scope["headers"] if name not in (b"range", b"if-range")]
        if self.ranges:
            spec = ",".join(f"{first}-{last}" for first, last in self.ranges)
            headers.append((b"range", f"bytes={spec}".encode("ascii")))
        await super().__call__({**scope, "headers": headers}, receive, send)


def parse_range(header: str, size: int) -> list[tuple[int, int]] | None:
    """The (first, last) byte positions a Range asks for, in order and merged; None to send the whole file.

    RangeNotSatisfiable when a `bytes` range is invalid or none of its ranges has a byte in the file.
    """
    unit, equals, range_set = header.partition("=")
    if not equals or unit.strip().lower() != "bytes":
        return None  # a range unit this server does not know: ignored (RFC 9110 section 14.2)
    specs = [spec.strip() for spec in range_set.split(",")]
    specs = [spec for spec in specs if spec]  # empty list elements are allowed
    if len(specs) > MAX_RANGES:
        return None
    matches = [RANGE_SPEC.fullmatch(spec) for spec in specs]
    if not matches or not all(match and any(match.groups()) for match in matches):
        raise RangeNotSatisfiable(f"the Range {_shortened(header)!r} is not a byte range: use {RANGE_FORMS}")
    ranges = []
    for first, last in (match.groups() for match in matches):
        if first and last and _magnitude(last) < _magnitude(first):
            raise RangeNotSatisfiable(f"the Range {_shortened(header)!r} has a last byte before its first: "
                                      f"use {RANGE_FORMS}")
        if first:
            start = _position(first, size)
            end = min(_position(last, size), size - 1) if last else size - 1
        else:  # the last N bytes
            start, end = size - _position(last, size), size - 1
        if start < size and start <= end:
            ranges.append((start, end))
    if not ranges:
        wanted = f"bytes=0-{size - 1} or a part of it" if size else "no range: the file is empty"
        raise RangeNotSatisfiable(f"no byte of the Range {_shortened(header)!r} is in the file: ask for {wanted}")
    merged = [sorted(ranges)[0]]
    for start, end in sorted(ranges)[1:]:
        if start <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _magnitude(digits: str) -> tuple[int, str]:
    """A key ordering digit strings of any length as the numbers they write."""
    significant = digits.lstrip("0") or "0"
    return len(significant), significant


def _position(digits: str, size: int) -> int:
    """The number `digits` writes, or `size` when it is larger (without converting thousands of digits)."""
    significant = digits.lstrip("0") or "0"
    return min(int(significant), size) if len(significant) <= len(str(size)) else size


def _shortened(text: str, most: int = 60) -> str:
    return text if len(text) <= most else f"{text[:most]}..."


def _etag_matches(header: str, etag: str) -> bool:
    candidates = [tag.strip().removeprefix("W/") for tag in header.split(",")]
    return "*" in candidates or etag in candidates


def _not_modified(request: Request, etag: str, modified: float) -> bool:
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        return _etag_matches(if_none_match, etag)  # RFC 9110: If-Modified-Since is then ignored
    since = request.headers.get("if-modified-since")
    if since:
        try:
            return int(modified) <= parsedate_to_datetime(since).timestamp()
        except (TypeError, ValueError):
            return False
    return False


def _if_range_holds(request: Request, etag: str, last_modified: str) -> bool:
    condition = request.headers.get("if-range")
    return condition is None or condition.strip() in (etag, last_modified)
