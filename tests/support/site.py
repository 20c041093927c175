"""The real site served locally for the browser tests, optionally with chosen paths failing.

Every HTML page gets the console probe (probe.js) as its first script, so that Firefox and
WebKit, whose WebDriver keeps no console log, report errors the way Chromium's log does.
"""
import contextlib
import html
import io
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from tools import serve

PROBE_PATH = "/__falken_probe__.js"
PROBE = (Path(__file__).parent / "probe.js").read_bytes()
# A page holding the site in a frame of a chosen size (?w=&h=&src=): a phone's viewport in
# engines whose desktop windows cannot be made that narrow. Same origin as the site, since
# browsers keep pages of other origins (data: included) from framing 127.0.0.1.
FRAME_PATH = "/__falken_frame__.html"


def frame_page(request_path):
    query = parse_qs(urlsplit(request_path).query)
    width, height, src = int(query["w"][0]), int(query["h"][0]), query["src"][0]
    return (f'<!doctype html><link rel="icon" href="data:,"><body style="margin:0"><iframe src="{html.escape(src)}" width="{width}" '
            f'height="{height}" style="border:0;display:block"></iframe></body>').encode()


class TestSiteHandler(serve.SiteHandler):
    """The site as `make run` serves it, plus the head scripts; `server.fault(path)` may answer
    None (serve it), an HTTP status (fail with it) or bytes (serve these instead)."""

    def send_head(self):
        path = urlsplit(self.path).path
        if path == FRAME_PATH:
            return self.send_body(frame_page(self.path), "text/html; charset=utf-8")
        if path in self.server.head_scripts:
            return self.send_body(self.server.head_scripts[path], "text/javascript")
        fault = self.server.fault(path) if self.server.fault else None
        if isinstance(fault, int):
            self.send_error(fault)
            return None
        if isinstance(fault, bytes):
            return self.send_body(fault, self.guess_type(path))
        if path.endswith("/") or path.endswith(".html"):
            file = Path(self.translate_path(path)) / ("index.html" if path.endswith("/") else "")
            if file.is_file():
                tags = "".join(f'<script src="{src}"></script>' for src in self.server.head_scripts)
                html = file.read_bytes().replace(b"<head>", f"<head>{tags}".encode(), 1)
                return self.send_body(html, "text/html; charset=utf-8")
        return super().send_head()

    def send_body(self, body, content_type):
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return io.BytesIO(body)


def start(root, fault=None, head_scripts=None):
    """The site on a free port; `head_scripts` ({path: source}) run first in every page
    (default: the console probe)."""
    server = serve.start_in_thread(root, handler=TestSiteHandler)
    server.fault = fault
    server.head_scripts = {PROBE_PATH: PROBE} if head_scripts is None else head_scripts
    return server


@contextlib.contextmanager
def site_failing(fault, status=404):
    """Serve the site; `fault(path)` returning True fails that path with `status`, an int
    fails it with that status, bytes are served in its place."""
    def answer(path):
        result = fault(path)
        return status if result is True else (result or None)

    server = start(serve.ROOT, answer)
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
