"""A real HTTP GET for CPython tests and benchmarks: asyncio streams, cancellable, no threads.

It plays the role pyodide.http.pyfetch plays in the browser: `await http_get(url) -> bytes`,
raising app.cache.FetchError for an HTTP error status or a short body, so the cache sees the
same kinds of failure it sees in the browser. gzip Content-Encoding is decoded like a browser.
"""
import asyncio
import gzip
import urllib.parse

from app.cache import FetchError

MAX_HEADER_LINES = 100


async def http_get(url):
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "http":
        raise FetchError(f"{url}: only http:// is supported here", kind="scheme")
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port or 80)
    try:
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n"
                     f"Accept-Encoding: gzip\r\n\r\n".encode("latin-1"))
        await writer.drain()
        status_line = await reader.readline()
        if not status_line:
            raise FetchError(f"{url}: connection closed before a response", kind="connection")
        status = int(status_line.split()[1])
        headers = {}
        for _ in range(MAX_HEADER_LINES):
            line = await reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            key, _, value = line.decode("latin-1").partition(":")
            headers[key.strip().lower()] = value.strip()
        if "content-length" in headers:
            length = int(headers["content-length"])
            try:
                body = await reader.readexactly(length)
            except asyncio.IncompleteReadError as error:
                raise FetchError(f"{url}: body truncated at {len(error.partial)} of {length} bytes",
                                 kind="truncated") from None
        else:
            body = await reader.read()
        if status != 200:
            raise FetchError(f"{url}: HTTP {status}", status=status)
        if headers.get("content-encoding") == "gzip":
            body = gzip.decompress(body)
        return body
    finally:
        writer.close()
