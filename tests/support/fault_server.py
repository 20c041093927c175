"""A real HTTP server on 127.0.0.1 that serves a folder and injects faults on request.

Faults (one per response): "404", "500", "slow" (the body trickles out over SLOW_SECONDS but
completes), "stall" (headers and half the body, then nothing until the client gives up),
"truncate" (Content-Length promises more than is sent), "corrupt" (same length, bytes
flipped: only the sha256 can tell), "reset" (TCP RST before any response).

A FaultPlan picks the fault for each request: a per-file script consumed in order (exact
tests), then seeded random rates (soak tests). It counts what it injected, so tests can
compare the server's truth with what the cache reports.
"""
import collections
import random
import socket
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

FAULTS = ("404", "500", "slow", "stall", "truncate", "corrupt", "reset")
SLOW_SECONDS = 0.3
SLOW_CHUNKS = 6
STALL_SECONDS = 30.0  # longer than any client timeout the tests use; ends early on shutdown


class FaultPlan:
    def __init__(self, script=None, rates=None, seed=0, random_suffix=".npz"):
        self.script = {name: collections.deque(faults) for name, faults in (script or {}).items()}
        self.rates = dict(rates or {})
        self.random = random.Random(seed)
        self.random_suffix = random_suffix  # random faults hit data blocks, not the manifest
        self.injected = collections.Counter()
        self.requests = collections.Counter()
        self.lock = threading.Lock()

    def next_fault(self, name):
        with self.lock:
            self.requests[name] += 1
            fault = None
            if self.script.get(name):
                fault = self.script[name].popleft()
            elif self.rates and name.endswith(self.random_suffix):
                roll, edge = self.random.random(), 0.0
                for kind, rate in self.rates.items():
                    edge += rate
                    if roll < edge:
                        fault = kind
                        break
            if fault in (None, "ok"):
                return None
            if fault not in FAULTS:
                raise ValueError(f"unknown fault {fault!r}")
            self.injected[fault] += 1
            return fault


class FaultHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # keep test output clean
        pass

    def do_GET(self):
        name = self.path.split("?")[0].rsplit("/", 1)[-1]
        path = self.server.root / name
        if not name or not path.is_file():
            return self.send_error(404)
        fault = self.server.plan.next_fault(name)
        body = path.read_bytes()
        if fault == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return
        if fault in ("404", "500"):
            return self.send_error(int(fault))
        if fault == "corrupt":
            middle = len(body) // 2  # inside the pixels: the length and zip layout stay valid
            body = body[:middle] + bytes(b ^ 0x5A for b in body[middle:middle + 64]) + body[middle + 64:]
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        if fault == "truncate":
            self.wfile.write(body[:len(body) // 3])
        elif fault == "stall":
            self.wfile.write(body[:len(body) // 2])
            self.wfile.flush()
            self.server.stopping.wait(STALL_SECONDS)
        elif fault == "slow":
            step = -(-len(body) // SLOW_CHUNKS)
            for start in range(0, len(body), step):
                self.wfile.write(body[start:start + step])
                self.wfile.flush()
                if self.server.stopping.wait(SLOW_SECONDS / SLOW_CHUNKS):
                    return
        else:
            self.wfile.write(body)

    def handle(self):
        try:
            super().handle()
        except (ConnectionError, OSError, ValueError):
            pass  # the client hung up on a fault, or we reset the connection on purpose

    def finish(self):
        try:
            super().finish()
        except (ConnectionError, OSError, ValueError):
            pass


class FaultServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, root, plan=None):
        super().__init__(("127.0.0.1", 0), FaultHandler)
        self.root = Path(root)
        self.plan = plan or FaultPlan()
        self.stopping = threading.Event()
        self.url = f"http://127.0.0.1:{self.server_address[1]}/"
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        self.shutdown()
        self.server_close()
        self.thread.join(timeout=5)
