"""Browser half of `make bench`: the real page in headless Chromium, served like S3 would.

Loads: build/site (the `make site` output) served with the file list's Content-Encoding, so
bytes on the wire are what visitors download; a fresh profile per cold run, the same profile
for warm runs. Bytes are counted by the server itself (every response byte, headers included,
page and worker alike): the cold load's figure is what the page fetched before its first board
click was answered, and the first visit's total adds the offline copy the service worker keeps. Then, on a warm page: training in the worker at batch 32 and 128
(samples/s from the page's status, main-thread long tasks, data stalls after a warm-up, page
memory), live digit inference on real pointer input, tic-tac-toe move latency, and numpy
inside Pyodide on bench/page.html (matmul GFLOP/s on the step's shapes).
"""
import json
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

from bench.stats import figure, percentile, ratio_figure, summary

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "build" / "site"
SITE_FILES = ROOT / "build" / "site-files.json"

MB = 1e6
# Installed before any page script: boot/click timings and the long-task log.
PROBE = r"""
(() => {
  const b = window.__bench = {ready: null, clickAt: null, answeredAt: null, longtasks: [], statusLog: []};
  try {
    new PerformanceObserver(list => { for (const e of list.getEntries()) b.longtasks.push([e.startTime, e.duration]); })
      .observe({type: 'longtask', buffered: true});
  } catch (e) { b.longtaskError = String(e); }
  const marks = () => Array.from(document.querySelectorAll('#board .cell')).filter(c => c.textContent.trim()).length;
  const poll = () => {
    if (b.ready === null && document.body && document.body.dataset.ready === 'true') b.ready = performance.now();
    const cell = document.getElementById('cell-4');
    if (b.clickAt === null && cell && !cell.disabled) {
      b.clickAt = performance.now();
      cell.click();
      if (marks() >= 2) b.answeredAt = performance.now();
    }
    if (b.clickAt !== null && b.answeredAt === null && marks() >= 2) b.answeredAt = performance.now();
    if (b.ready === null || b.answeredAt === null) setTimeout(poll, 2);
  };
  poll();
  document.addEventListener('DOMContentLoaded', poll);
})();
"""


# -- serving build/site the way S3 does ---------------------------------------------------------
class _Counting:
    """Wraps a handler's wfile: every byte written is added to the server's tally."""

    def __init__(self, raw, server):
        self._raw, self._server = raw, server
        self.path = "?"

    def write(self, data):
        self._server.count(len(data), self.path)
        return self._raw.write(data)

    def __getattr__(self, name):
        return getattr(self._raw, name)


def make_handler(base, encodings):
    class Handler(base):
        def setup(self):
            super().setup()
            self.wfile = _Counting(self.wfile, self.server)

        def parse_request(self):
            self.arrived = time.time()
            return super().parse_request()

        def end_headers(self):
            self.wfile.path = urlsplit(self.path).path
            self.server.count(0, self.wfile.path, response=True, arrived=getattr(self, "arrived", None))
            path = unquote(urlsplit(self.path).path).lstrip("/")
            if path in ("", "/"):
                path = "index.html"
            if encodings.get(path):
                self.send_header("Content-Encoding", encodings[path])
            super().end_headers()
    return Handler


def start_server(root, encodings):
    import threading

    from tools import serve
    server = serve.SiteServer(("127.0.0.1", 0), root, True, make_handler(serve.SiteHandler, encodings))
    reset_tally(server)
    lock = threading.Lock()

    def count(n, path, response=False, arrived=None):
        with lock:
            server.bytes_sent += n
            server.by_path[path] = server.by_path.get(path, 0) + n
            thread = threading.get_ident()
            if response:                   # a new response on this connection's thread
                server.responses[path] = server.responses.get(path, 0) + 1
                server.arrivals.append([arrived, 0])
                server.arrivals_by_thread[thread] = len(server.arrivals) - 1
            elif thread in server.arrivals_by_thread:
                server.arrivals[server.arrivals_by_thread[thread]][1] += n
    server.count = count
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def reset_tally(server):
    """Zero the server's byte tally. `arrivals` holds [epoch s the request arrived, bytes sent] per response."""
    server.bytes_sent, server.by_path, server.responses, server.arrivals = 0, {}, {}, []
    server.arrivals_by_thread = {}


def bytes_before(server, epoch):
    """Bytes of the responses to requests that arrived before `epoch` (s)."""
    return sum(n for arrived, n in list(server.arrivals) if arrived is not None and arrived < epoch)


def site_encodings():
    listing = json.loads(SITE_FILES.read_text())
    return {f["path"]: f["content_encoding"] for f in listing["files"]}


# -- the browser ----------------------------------------------------------------------------
def new_browser():
    from tests.support import engines
    driver = engines.start("chromium")
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": PROBE})
    return driver


def quit_browser(driver):
    driver.quit()


def wait_for(driver, condition, timeout=120, poll=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = driver.execute_script(f"return ({condition});")
        if value:
            return value
        time.sleep(poll)
    errors = driver.execute_script("const e = document.getElementById('errors'); return e ? e.innerText : ''")
    try:
        severe = [e["message"][:200] for e in driver.get_log("browser") if e["level"] == "SEVERE"][:3]
    except Exception:
        severe = []
    raise TimeoutError(f"timed out waiting for {condition}; #errors: {errors!r}; console errors: {severe}")


# The service worker's offline copy has settled: kept, failed, or not offered on this page.
OFFLINE_SETTLED = "['ready', 'failed', 'unavailable', 'update-ready'].includes(document.documentElement.dataset.offline)" \
                  " || !document.documentElement.dataset.siteVersion"


def load(driver, server, path=""):
    """Navigate, wait until ready and the probe's first board click is answered, then until the
    service worker's offline copy has settled. `bytes`: what the page fetched until it answered
    (the requests that arrived before that moment, page and worker alike); `bytes_total`: all of
    the visit's, the offline copy the service worker downloads after the page is ready included."""
    driver.get("about:blank")
    reset_tally(server)
    driver.get(server.url + path)
    wait_for(driver, "window.__bench && __bench.ready !== null && __bench.answeredAt !== null "
                     "|| document.body.dataset.ready === 'error'")
    probe = driver.execute_script("return Object.assign({origin: performance.timeOrigin}, window.__bench)")
    if probe["ready"] is None:
        raise RuntimeError("the page did not become ready: "
                           + driver.execute_script("return document.getElementById('errors').innerText"))
    wait_for(driver, OFFLINE_SETTLED, timeout=120)
    time.sleep(0.5)                        # late requests (knowledge, data manifest) land in the tally
    answered_epoch = (probe["origin"] + probe["answeredAt"]) / 1e3
    return {"bytes": bytes_before(server, answered_epoch), "bytes_total": server.bytes_sent,
            "by_path": dict(server.by_path), "responses": dict(server.responses),
            "ready_ms": probe["ready"], "click_ms": probe["answeredAt"],
            "click_handler_ms": probe["answeredAt"] - probe["clickAt"],
            "offline": driver.execute_script("return document.documentElement.dataset.offline || null")}


def renderer_rss_mb(driver):
    """Largest resident set among this browser's renderer processes (the page and its workers)."""
    root = driver.service.process.pid
    children = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(pid))
        except (OSError, IndexError, ValueError):
            continue
    stack, best = [root], 0.0
    while stack:
        pid = stack.pop()
        stack += children.get(pid, [])
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            if b"--type=renderer" not in cmdline:
                continue
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    best = max(best, int(line.split()[1]) / 1024)
        except OSError:
            continue
    return best


def set_slider(driver, slider_id, value):
    driver.execute_script("const s = document.getElementById(arguments[0]); s.value = arguments[1];"
                          "s.dispatchEvent(new Event('input', {bubbles: true}));", slider_id, str(value))


STATUS_LOG = r"""
const b = window.__bench, s = document.getElementById('train-status');
b.statusLog = [];
b.statusObserver = b.statusObserver || new MutationObserver(() => {
  b.statusLog.push([performance.now(), +s.dataset.iteration, +s.dataset.stalls, +(s.dataset.samplesPerS || 0),
                    +s.dataset.cacheBlocks, s.dataset.state]);
});
b.statusObserver.observe(s, {attributes: true, attributeFilter: ['data-iteration']});
"""


def status(driver):
    return driver.execute_script(
        "const s = document.getElementById('train-status');"
        "return [performance.now(), +s.dataset.iteration, +s.dataset.stalls, s.dataset.state, +s.dataset.cacheBlocks]")


def window_rate(log, t0, t1, batch):
    """samples/s from the status log between page times t0 and t1 (first and last report inside)."""
    inside = [e for e in log if t0 <= e[0] <= t1]
    if len(inside) < 2:
        return None, None
    (ta, ia, sa, *_), (tb, ib, sb, *_) = inside[0], inside[-1]
    reported = [e[3] for e in inside if e[3]]
    return (ib - ia) * batch / ((tb - ta) / 1e3), {"stalls": sb - sa,
                                                   "reported": statistics.median(reported) if reported else None}


# Every Digits panel on screen while training (any folded one opened): the charts, the run
# comparison, the confusion matrix and the rest are painted then, and painting is main-thread
# work that a panel below the fold would not cost. The window's size, and the height it needs
# with ROOM_PX to spare for what training adds (the confusion matrix's rows, another run).
ROOM_PX = 400
SHOW_DIGITS = r"""
document.querySelectorAll('#digits details').forEach(d => { d.open = true; });
window.scrollTo(0, 0);
const view = document.getElementById('digits').getBoundingClientRect();
return [window.outerWidth, window.outerHeight, Math.ceil(view.bottom) + window.outerHeight - window.innerHeight];
"""
ALL_VISIBLE = "return document.getElementById('digits').getBoundingClientRect().bottom <= window.innerHeight"


def show_every_digits_panel(driver):
    """Makes the window as tall as the Digits view (an engine may stop at its screen's height:
    WebKit's Xvfb screen); returns the size it had."""
    width, height, needed = driver.execute_script(SHOW_DIGITS)
    driver.set_window_size(width, max(height, needed + ROOM_PX))
    return width, height


def train_run(driver, warmup, window):
    """One training run with every Digits panel on screen: batch 32 then 128 (each `warmup` +
    `window` s). Returns its figures."""
    js = driver.execute_script
    js("location.hash = '#digits'")
    time.sleep(0.2)
    size = show_every_digits_panel(driver)
    js("document.getElementById('train-reset').click()")
    time.sleep(0.5)
    wait_for(driver, "!document.getElementById('train-start').disabled")
    set_slider(driver, "batch-size", 32)
    js(STATUS_LOG)
    started = js("return performance.now()")
    js("document.getElementById('train-start').click()")
    wait_for(driver, "+document.getElementById('train-status').dataset.iteration > 0", timeout=60)
    out = {}
    marks = []
    for batch in (32, 128):
        set_slider(driver, "batch-size", batch)
        time.sleep(warmup)
        t0 = js("return performance.now()")
        time.sleep(window)
        t1 = js("return performance.now()")
        marks.append((batch, t0, t1))
    ended = js("return performance.now()")
    out["digits_all_visible"] = js(ALL_VISIBLE)
    log = js("return window.__bench.statusLog")
    longtasks = js("return window.__bench.longtasks")
    js("document.getElementById('train-pause').click()")
    wait_for(driver, "document.getElementById('train-status').dataset.state !== 'running'", timeout=30)
    for batch, t0, t1 in marks:
        rate, extra = window_rate(log, t0, t1, batch)
        out[f"rate_b{batch}"] = rate
        out[f"reported_b{batch}"] = extra and extra["reported"]
        out[f"stalls_b{batch}"] = extra and extra["stalls"]
    first_window = marks[0][1]
    out["stalls_warm"] = (out["stalls_b32"] or 0) + (out["stalls_b128"] or 0)
    tasks = [d for s, d in longtasks if started <= s <= ended]
    out["longtasks"] = len(tasks)
    out["longtask_ms_max"] = max(tasks, default=0.0)
    out["trained_s"] = (ended - started) / 1e3
    out["stalls_before_warm"] = next((e[2] for e in log if e[0] >= first_window), 0)
    time.sleep(0.5)
    out["js_heap_mb"] = js("return performance.memory ? performance.memory.usedJSHeapSize / 1e6 : null")
    # Renderer processes are Chromium's; other engines' memory is not measured here.
    out["renderer_rss_mb"] = renderer_rss_mb(driver) if getattr(driver, "engine", "chromium") == "chromium" else None
    driver.set_window_size(*size)
    return out


# -- live digit inference on real pointer input ---------------------------------------------------
INFERENCE_PROBE = r"""
const b = window.__bench;
b.inf = {samples: [], t0: null, drawn: null, pending0: false, pending1: false};
if (!b.infInstalled) {
  b.infInstalled = true;
  // capture on window runs before the app's canvas listener, bubbling after it; the frame
  // callbacks registered here bracket the app's prediction callback (one per frame), and a
  // frame counts if static/js/bars.js showed a prediction in it.
  const before = e => { const inf = window.__bench.inf; if (e.target.id !== 'grid' || inf.pending0) return;
    inf.pending0 = true;
    requestAnimationFrame(() => { inf.pending0 = false; inf.t0 = performance.now(); inf.drawn = window.falkenBars.drawn; }); };
  const after = e => { const inf = window.__bench.inf; if (e.target.id !== 'grid' || inf.pending1) return;
    inf.pending1 = true;
    requestAnimationFrame(() => { inf.pending1 = false;
      if (inf.t0 !== null && window.falkenBars.drawn > inf.drawn) inf.samples.push(performance.now() - inf.t0); }); };
  for (const type of ['pointerdown', 'pointermove']) {
    window.addEventListener(type, before, {capture: true});
    window.addEventListener(type, after);
  }
}
"""
NEXT_FRAMES = ("const done = arguments[arguments.length - 1];"
               "requestAnimationFrame(() => requestAnimationFrame(() => done(true)));")


def stroke_points(box, n=30):
    """A '7' drawn across the canvas: top bar then the diagonal, in viewport coordinates."""
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    pts = [(0.25 + 0.5 * i / 9, 0.2) for i in range(10)]
    pts += [(0.75 - 0.3 * i / (n - 11), 0.2 + 0.65 * i / (n - 11)) for i in range(n - 10)]
    return [(x + w * px, y + h * py) for px, py in pts]


def inference_run(driver):
    js = driver.execute_script
    js("location.hash = '#digits'")
    time.sleep(0.2)
    js("document.getElementById('grid').scrollIntoView({block: 'center'})")
    js("document.getElementById('grid-clear').click()")
    js(INFERENCE_PROBE)
    box = js("const r = document.getElementById('grid').getBoundingClientRect();"
             "return {x: r.x, y: r.y, width: r.width, height: r.height}")
    points = stroke_points(box)
    mouse = lambda kind, x, y, buttons: driver.execute_cdp_cmd(  # noqa: E731
        "Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y, "button": "left", "buttons": buttons,
                                     "clickCount": 1 if kind != "mouseMoved" else 0})
    mouse("mouseMoved", *points[0], 0)
    mouse("mousePressed", *points[0], 1)
    driver.execute_async_script(NEXT_FRAMES)
    for x, y in points[1:]:
        mouse("mouseMoved", x, y, 1)
        driver.execute_async_script(NEXT_FRAMES)
    mouse("mouseReleased", *points[-1], 0)
    samples = js("return window.__bench.inf.samples")
    digit = js("return document.getElementById('prediction').dataset.digit")
    return samples, digit


# -- tic-tac-toe move latency ----------------------------------------------------------------------
TTT_LATENCY = r"""
const moves = arguments[0], seed = arguments[1];
let r = seed;
const rand = n => { r = (r * 1103515245 + 12345) % 2147483648; return r % n; };
const cells = [...Array(9).keys()].map(i => document.getElementById('cell-' + i));
const marks = () => cells.filter(c => c.textContent.trim()).length;
const out = [];
document.getElementById('ttt-first').value = 'human';
let guard = 0;
while (out.length < moves && guard++ < 1000) {
  document.getElementById('ttt-new').click();
  while (out.length < moves) {
    const free = cells.filter(c => !c.disabled);
    if (!free.length) break;
    const before = marks();
    const cell = free[rand(free.length)];
    const t0 = performance.now();
    cell.click();
    const t1 = performance.now();
    if (marks() === before + 2) out.push(t1 - t0);
    else break;
  }
}
return out;
"""


# -- numpy inside Pyodide ---------------------------------------------------------------------------
def inpage_numbers(driver, url, runs):
    driver.get(url + f"bench/page.html?runs={runs}&seconds=0.5")
    value = wait_for(driver, "document.body.dataset.bench", timeout=600, poll=0.5)
    data = json.loads(value)
    if "error" in data:
        raise RuntimeError(f"bench/page.html failed: {data['error']}\n{data.get('traceback', '')}")
    return data


def memory_floor(url):
    """Renderer RSS of a fresh browser on about:blank, then on the bare PyScript + numpy page."""
    driver = new_browser()
    try:
        driver.get("about:blank")
        time.sleep(1)
        blank = renderer_rss_mb(driver)
        inpage_boot(driver, url)
        time.sleep(1)
        return {"blank_mb": blank, "page_mb": renderer_rss_mb(driver)}
    finally:
        quit_browser(driver)


def inpage_boot(driver, url):
    driver.get(url + "bench/page.html?boot=1")
    return json.loads(wait_for(driver, "document.body.dataset.bench", timeout=120, poll=0.02))


# -- the whole browser half ---------------------------------------------------------------------
def wheel_reason():
    from tools import vendor
    try:
        path, reason = vendor.pyodide_package_status("numpy")
    except Exception as error:    # no vendored Pyodide at all
        return f"Pyodide is not vendored ({error}); run `make setup`"
    return None if path else reason


def chromium_version():
    import subprocess
    try:
        return subprocess.run(["chromium", "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    except Exception:
        return None


def run(runs=5, train_window=10.0, train_warmup=3.0, log=print):
    """Every browser figure, or {"skipped": reason}."""
    reason = wheel_reason()
    if reason:
        return {"skipped": f"browser part skipped: {reason}"}
    sys.path.insert(0, str(ROOT))
    from tools import serve
    notes = []
    if SITE_FILES.exists() and (SITE / "index.html").exists():
        load_server = start_server(SITE, site_encodings())
        served = "build/site (gzip as its file list says)"
    else:
        load_server = start_server(ROOT, {})
        served = "the repository root, uncompressed (no build/site: run `make site`)"
        notes.append("transfer sizes are uncompressed: build/site was missing")
    raw_server = serve.start_in_thread(ROOT)   # for bench/page.html (not part of the site)
    figures, meta = [], {"served_from": served, "chromium": chromium_version()}
    try:
        # cold loads: a fresh profile each
        cold = []
        for i in range(runs):
            driver = new_browser()
            try:
                cold.append(load(driver, load_server))
                log(f"  cold load {i + 1}/{runs}: {cold[-1]['bytes'] / MB:.2f} MB, ready "
                    f"{cold[-1]['ready_ms']:.0f} ms")
            finally:
                if i < runs - 1:
                    quit_browser(driver)
        # warm loads: the last cold run's profile, same tab
        warm = []
        for i in range(runs):
            warm.append(load(driver, load_server))
            log(f"  warm load {i + 1}/{runs}: {warm[-1]['bytes'] / 1e3:.1f} kB, ready {warm[-1]['ready_ms']:.0f} ms, "
                f"board answered {warm[-1]['click_ms']:.0f} ms")
        # tic-tac-toe move latency and live inference on the warm page
        ttt = [driver.execute_script(TTT_LATENCY, 20, 7 + r) for r in range(runs)]
        inference = []
        for r in range(runs):
            samples, digit = inference_run(driver)
            inference.append(samples)
            log(f"  inference run {r + 1}/{runs}: {len(samples)} predictions, median "
                f"{statistics.median(samples) if samples else float('nan'):.2f} ms, digit {digit!r}")
        # training
        training = []
        for r in range(runs):
            training.append(train_run(driver, train_warmup, train_window))
            t = training[-1]
            log(f"  training run {r + 1}/{runs}: b32 {t['rate_b32'] or 0:.0f} /s, b128 {t['rate_b128'] or 0:.0f} /s, "
                f"long tasks {t['longtasks']}, stalls {t['stalls_warm']}, rss {t['renderer_rss_mb']:.0f} MB")
        meta["user_agent"] = driver.execute_script("return navigator.userAgent")
        quit_browser(driver)
        # numpy inside Pyodide
        driver = new_browser()
        try:
            inpage = inpage_numbers(driver, raw_server.url, runs)
            boot = []                               # warm loads of a page that only boots Pyodide + numpy
            for _ in range(runs):
                driver.get("about:blank")
                boot.append(inpage_boot(driver, raw_server.url))
        finally:
            quit_browser(driver)
        floors = [memory_floor(raw_server.url) for _ in range(runs)]
        log(f"  in-page numpy {inpage['numpy']}: matmul b32 {statistics.median(inpage['matmul_b32']):.2f} GFLOP/s")
    finally:
        load_server.shutdown()
        raw_server.shutdown()

    meta["pyodide_numpy"] = inpage["numpy"]
    meta["pyodide_python"] = inpage["python"]
    flops = inpage["flops_per_sample"]
    g = "browser"
    figures += [
        figure("browser.cold.bytes", g, "cold load: bytes transferred until the board answers", "MB",
               [c["bytes"] / MB for c in cold],
               better="lower", target=("<=", 7.0, "DESIGN §4: cold transfer ≤ 7 MB gzip"),
               note=f"served from {served}; page + worker, headers included; requests that arrived "
                    "before the first board click was answered"),
        figure("browser.cold.total", g, "first visit: bytes with the offline copy", "MB",
               [c["bytes_total"] / MB for c in cold], better="lower",
               note="everything the first visit downloads, the service worker's copy of the rest of the "
                    "site (kept after the page is ready, for offline use) included"),
        figure("browser.cold.ready", g, "cold load: time to data-ready", "ms", [c["ready_ms"] for c in cold],
               better="lower"),
        figure("browser.cold.click", g, "cold load: first board click answered", "ms after navigation",
               [c["click_ms"] for c in cold], better="lower"),
        figure("browser.warm.bytes", g, "warm load: bytes transferred", "kB", [w["bytes"] / 1e3 for w in warm],
               better="lower", target=("<=", 50.0, "DESIGN §4: second visit ~0 (read as ≤ 50 kB)")),
        figure("browser.warm.ready", g, "warm load: time to data-ready", "ms", [w["ready_ms"] for w in warm],
               better="lower"),
        figure("browser.warm.click", g, "warm load: first board click answered", "ms after navigation",
               [w["click_ms"] for w in warm], better="lower",
               note="judged against the bare-stack floor below (DESIGN §4 keeps no absolute target)"),
        figure("browser.floor.python", g, "warm floor: bare PyScript page, Python running", "ms after navigation",
               [r["python_ready_ms"] for r in boot], better="lower",
               note="bench/page.html?boot=1: Pyodide booted with numpy unpacked, no app code"),
        figure("browser.floor.numpy", g, "warm floor: bare page, numpy imported", "ms after navigation",
               [r["numpy_ready_ms"] for r in boot], better="lower",
               note="the least any page on this stack can answer a click in (the board needs numpy)"),
        figure("browser.ttt.move", g, "LSTM move (click → answer on the board), median", "ms",
               [statistics.median(t) for t in ttt], better="lower", note="20 moves per run"),
        figure("browser.ttt.move_p95", g, "LSTM move, p95", "ms", [percentile(t, 95) for t in ttt], better="lower"),
        figure("browser.inference.median", g, "live digit inference, median", "ms",
               [statistics.median(s) for s in inference if s], better="lower",
               target=("<=", 2.0, "DESIGN §4 (issue 13): the app's live inference ≤ 2 ms median"),
               note="the app's predict frame callback (canvas read, preprocess, input picture, predict, 10 bars, hidden units), real pointer input"),
        figure("browser.inference.p95", g, "live digit inference, p95", "ms",
               [percentile(s, 95) for s in inference if s], better="lower",
               target=("<=", 4.0, "DESIGN §4 (issue 13): the app's live inference ≤ 4 ms p95")),
        ratio_figure("browser.floor.click_ratio", g, "warm load: first board click ÷ the bare-stack floor",
                     summary([w["click_ms"] for w in warm]), summary([r["numpy_ready_ms"] for r in boot]),
                     target=("<=", 1.05, "DESIGN §4 (issue 13): first board click ≤ 1.05× the bare "
                                         "PyScript+numpy floor, warm cache, same run"),
                     note="median warm click ÷ median floor (numpy imported); min–max from the runs' extremes"),
    ]
    for batch in (32, 128):
        rates = [t[f"rate_b{batch}"] for t in training if t[f"rate_b{batch}"]]
        gflops = inpage[f"matmul_b{batch}"]
        figures += [
            figure(f"browser.train.b{batch}", g, f"worker training, batch {batch}", "samples/s", rates,
                   target=(">=", 2000.0, "DESIGN §4: in-browser training ≥ 2,000 samples/s"),
                   note=f"from #train-status iterations over {train_window:.0f} s windows after {train_warmup:.0f} s"),
            figure(f"browser.matmul.b{batch}", g, f"in-page numpy matmul on the step's shapes, batch {batch}",
                   "GFLOP/s", gflops),
            figure(f"browser.einsum.b{batch}", g, f"in-page np.einsum on the same shapes, batch {batch}",
                   "GFLOP/s", inpage[f"einsum_b{batch}"], note="the kernels models/products.py picks where numpy has no BLAS"),
            figure(f"browser.train.b{batch}.fraction", g, f"worker training ÷ in-page matmul speed, batch {batch}",
                   "fraction", [r * flops / 1e9 / statistics.median(gflops) for r in rates],
                   note=f"{flops:,} FLOP/sample; above 1 when the step beats np.matmul (einsum for the big products)"),
            figure(f"browser.step.b{batch}", g, f"in-page bare MLP train_step (no app), batch {batch}", "samples/s",
                   inpage[f"mlp_b{batch}"], note="bench/page.html, main thread, random MNIST-like batches"),
        ]
    figures += [
        figure("browser.train.longtasks", g, "main-thread long tasks (> 50 ms) while training", "count",
               [t["longtasks"] for t in training], better="lower",
               target=("==", 0, "DESIGN §4: 0 long tasks while training", "max"),
               note=f"over ~{2 * (train_window + train_warmup):.0f} s of training per run, every Digits panel "
                    f"on screen in {sum(bool(t['digits_all_visible']) for t in training)} of {len(training)} runs"),
        figure("browser.train.longtask_max", g, "longest main-thread task while training", "ms",
               [t["longtask_ms_max"] for t in training], better="lower"),
        figure("browser.train.stalls", g, "data stalls once the cache is warm", "steps",
               [t["stalls_warm"] for t in training], better="lower",
               target=("==", 0, "DESIGN §4: 0 steps waiting on data, warm cache", "max"),
               note=f"stall counter change over the measured windows (after {train_warmup:.0f} s warm-up)"),
        figure("browser.memory.rss", g, "page memory after training (renderer RSS)", "MB",
               [t["renderer_rss_mb"] for t in training], better="lower", note="page + worker process",
               target=("<=", 300.0, "DESIGN §4 (issue 13): page memory after training ≤ 300 MB")),
        figure("browser.floor.memory", g, "memory floor: bare PyScript page, numpy imported (renderer RSS)", "MB",
               [f["page_mb"] for f in floors], better="lower",
               note="a fresh browser each run; one interpreter and no app: what page memory cannot go below "
                    "on this stack (the app runs two: the page's and the trainer worker's)"),
        figure("browser.floor.blank", g, "memory floor: about:blank in a fresh browser (renderer RSS)", "MB",
               [f["blank_mb"] for f in floors], better="lower", note="the engine's own share of the figures above"),
        figure("browser.memory.jsheap", g, "main-thread JS heap after training", "MB",
               [t["js_heap_mb"] for t in training if t["js_heap_mb"] is not None], better="lower",
               note="performance.memory.usedJSHeapSize"),
        figure("browser.inpage.inference", g, "bare preprocess + predict_proba in Pyodide, median", "ms",
               [statistics.median(s) for s in inpage["inference_ms"]], better="lower", note="bench/page.html"),
        figure("browser.inpage.ttt", g, "bare LSTM choose() in Pyodide, median", "ms",
               [statistics.median(s) for s in inpage["ttt_choose_ms"]], better="lower", note="bench/page.html"),
    ]
    paths = sorted({p for c in cold for p in c["by_path"]})
    meta["cold_by_path"] = sorted(
        ([p, statistics.median(c["by_path"].get(p, 0) for c in cold),
          statistics.median(c["responses"].get(p, 0) for c in cold)] for p in paths),
        key=lambda row: -row[1])
    meta["notes"] = notes
    meta["raw"] = {"cold": cold, "warm": warm, "training": training}
    return {"figures": figures, "meta": meta}
