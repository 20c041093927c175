"""Serve the repository root as the static site, like S3 would (used by `make run` and the tests).

    python -m tools.serve [--port 8000] [--host 127.0.0.1] [--built]

--built serves the site `make site` built (build/site/) instead, each file with the headers its
file list gives it, as S3 serves a deploy: that site has the service worker (tools/site.py).
"""
import argparse
import functools
import http.server
import json
import threading
from pathlib import Path
from urllib.parse import unquote, urlsplit

from tools.mime import cache_control, content_type

ROOT = Path(__file__).resolve().parent.parent


class SiteHandler(http.server.SimpleHTTPRequestHandler):
    """Static files with explicit types and caching, and a log of every request served."""

    def guess_type(self, path):
        return content_type(str(path))

    def send_response(self, code, message=None):
        super().send_response(code, message)
        self.status_sent = code

    def end_headers(self):
        site_path = unquote(urlsplit(self.path).path)
        # Only a real file may be kept; an error must be asked again (it may be fixed by then).
        ok = getattr(self, "status_sent", 200) < 400
        self.send_header("Cache-Control", cache_control(site_path) if ok else "no-store")
        super().end_headers()

    def log_message(self, format, *args):
        self.server.requests.append(self.path)
        if not self.server.quiet:
            super().log_message(format, *args)


class BuiltSiteHandler(SiteHandler):
    """build/site as S3 serves it: stored bytes (gzip where the build chose it), listed headers,
    ETag revalidation; a path the file list does not name is a 404."""

    def send_head(self):
        path = unquote(urlsplit(self.path).path).lstrip("/")
        entry = self.server.files.get(path + "index.html" if path.endswith("/") or not path else path)
        if entry is None:
            self.send_error(404)
            return None
        etag = f'"{entry["sha256"]}"'
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return None
        self.send_response(200)
        self.send_header("Content-Type", entry["content_type"])
        if entry["content_encoding"]:
            self.send_header("Content-Encoding", entry["content_encoding"])
        self.send_header("Content-Length", str(entry["bytes"]))
        self.send_header("ETag", etag)
        self.end_headers()
        return open(Path(self.directory) / entry["path"], "rb")


def built_site(file_list):
    """{path: entry} of a built site's file list (tools/site.py)."""
    return {entry["path"]: entry for entry in json.loads(Path(file_list).read_text())["files"]}


class SiteServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    # Chromium opens many connections at once while Pyodide loads.
    request_queue_size = 64

    def __init__(self, address, root, quiet, handler=SiteHandler):
        super().__init__(address, functools.partial(handler, directory=str(root)))
        self.requests = []
        self.quiet = quiet

    @property
    def url(self):
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/"


def start_in_thread(root=ROOT, host="127.0.0.1", port=0, quiet=True, handler=SiteHandler, file_list=None):
    """Start a server on a free port (port=0) in a daemon thread; returns it (call .shutdown()).
    With `file_list`, `root` is a built site served as S3 would (BuiltSiteHandler)."""
    if file_list is not None:
        handler = BuiltSiteHandler
    server = SiteServer((host, port), root, quiet, handler)
    server.files = built_site(file_list) if file_list is not None else None
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--root", type=Path, default=ROOT)
    parser.add_argument("--built", action="store_true", help="serve build/site (`make site`) as S3 would")
    args = parser.parse_args()
    if args.built:
        from tools.site import FILE_LIST, OUT
        if not FILE_LIST.exists():
            parser.exit(1, "serve: build/site is not built yet: run `make site` first\n")
        server = SiteServer((args.host, args.port), OUT, quiet=False, handler=BuiltSiteHandler)
        server.files = built_site(FILE_LIST)
    else:
        server = SiteServer((args.host, args.port), args.root, quiet=False)
    print(f"Falken is served at {server.url}  (Ctrl-C stops it)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("\nstopped.")
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
