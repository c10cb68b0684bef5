"""`/dumps/`: the release's files with HTTP caching and byte ranges, and their listing (HTML or JSON).

A file's ETag is its SHA-256 (from the release inventory), so it changes exactly when the bytes do;
Last-Modified is the file's time. Conditional GETs answer 304, `Range: bytes=` answers 206 (one
range; several ranges get the whole file, as RFC 9110 allows), `If-Range` is honoured. Gzip files
are served as `application/gzip`, never as a Content-Encoding, so the bytes match SHA256SUMS.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse

from kg.describe import media_type
from kg.publish import CHECKSUMS_FILE, sha256_of
from kg.server.conneg import HTML, JSON, NotAcceptable, choose
from kg.server.site import Site

CHUNK = 1 << 16
RANGE = re.compile(r"bytes=(\d*)-(\d*)")
LISTING_FORMATS = (HTML, JSON)


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

    @router.api_route("/dumps", methods=["GET", "HEAD"], include_in_schema=False)
    @router.api_route("/dumps/", methods=["GET", "HEAD"])
    async def listing(request: Request) -> Response:
        """Every published file with size, media type and SHA-256: HTML, or JSON by Accept or `?format=json`."""
        try:
            chosen = choose(LISTING_FORMATS, request.headers.get("accept"),
                            tuple(request.query_params.getlist("format")))
        except NotAcceptable as error:
            return Response(str(error), status_code=406, media_type="text/plain")
        files = dumps.listing(site.base)
        headers = {"Vary": "Accept"}
        if chosen is JSON:
            return JSONResponse({"release": site.manifest["release"], "base": site.base, "files": files},
                                headers=headers)
        return HTMLResponse(site.render("dumps.html", files=files, title="Dumps"), headers=headers)

    @router.api_route("/dumps/{name}", methods=["GET", "HEAD"])
    async def dump_file(name: str, request: Request) -> Response:
        """One published file, with ETag/Last-Modified validators and byte ranges."""
        meta = dumps.files.get(name)
        if meta is None:
            return Response(f"no file {name!r} in this release; see /dumps/\n", status_code=404,
                            media_type="text/plain")
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
    size = meta["bytes"]
    start, end, status = 0, size - 1, 200
    wanted = request.headers.get("range")
    if wanted and _if_range_holds(request, etag, last_modified):
        byte_range = _parse_range(wanted, size)
        if byte_range == "unsatisfiable":
            return Response(status_code=416, headers={**headers, "Content-Range": f"bytes */{size}"})
        if byte_range is not None:
            start, end = byte_range
            status = 206
            headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    headers["Content-Length"] = str(end - start + 1)
    body = None if request.method == "HEAD" else _read(path, start, end)
    if body is None:
        return Response(status_code=status, headers=headers, media_type=meta["media_type"])
    return StreamingResponse(body, status_code=status, headers=headers, media_type=meta["media_type"])


def _read(path: Path, start: int, end: int) -> Iterator[bytes]:
    with path.open("rb") as handle:
        handle.seek(start)
        remaining = end - start + 1
        while remaining > 0:
            block = handle.read(min(CHUNK, remaining))
            if not block:
                break
            remaining -= len(block)
            yield block


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


def _parse_range(header: str, size: int) -> tuple[int, int] | str | None:
    """(start, end) of a single `bytes=` range, "unsatisfiable", or None to send the whole file."""
    match = RANGE.fullmatch(header.strip())
    if not match or not any(match.groups()):
        return None
    first, last = match.groups()
    if not first:  # suffix range: the last N bytes
        length = int(last)
        if length == 0:
            return "unsatisfiable"
        return max(size - length, 0), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or (last and int(last) < start):
        return "unsatisfiable"
    return start, end
