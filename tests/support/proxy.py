"""Where Firefox and WebKit send every request that is not for 127.0.0.1.

Each request is recorded (so a test can assert that none left this machine, as Chromium's network
log lets it) and refused, except for the host names in ALIASES: those stand for 127.0.0.1, the
way Chromium's --host-resolver-rules maps them, so a page can be opened under a name that is not
localhost (and so without a secure context), as visitors of the S3 website endpoint see it.
"""
import http.client
import http.server
import threading
from urllib.parse import urlsplit

# Dotless, so moto (the S3 stand-in) reads its requests path-style, as it does for localhost.
ALIASES = {"falken-s3"}
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "proxy-authorization", "te",
              "trailer", "transfer-encoding", "upgrade"}


class ProxyHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def relay(self):
        url = self.path
        self.server.seen.append(url)
        parts = urlsplit(url)
        if parts.hostname not in ALIASES:
            return self.refuse()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        upstream = http.client.HTTPConnection("127.0.0.1", parts.port or 80, timeout=60)
        try:
            upstream.request(self.command, parts.path + (f"?{parts.query}" if parts.query else "") or "/",
                             body=body, headers=headers)
            answer = upstream.getresponse()
            data = answer.read()
        except OSError as error:
            return self.refuse(f"upstream failed: {error}")
        finally:
            upstream.close()
        self.send_response(answer.status, answer.reason)
        for key, value in answer.getheaders():
            if key.lower() not in HOP_BY_HOP | {"content-length"}:
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def refuse(self, why="the tests allow no request off this machine"):
        body = why.encode()
        self.send_response(502, "Refused by the test proxy")
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = do_OPTIONS = relay

    def do_CONNECT(self):
        self.server.seen.append(f"https://{self.path}/")
        self.refuse()
        self.close_connection = True

    def log_message(self, format, *args):
        pass


class RecordingProxy(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), ProxyHandler)
        self.seen = []
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def address(self):
        return f"127.0.0.1:{self.server_address[1]}"

    def stop(self):
        self.shutdown()
        self.server_close()
