"""Engines half of `make bench`: the same page measured in Chromium, Firefox and WebKit, side by side.

Each engine gets the same treatment, through the tests' engine harness (tests/support/engines.py):
one fresh browser, the repository served locally with the bench probe (bench.browser.PROBE)
put first in the page by the server (no engine-specific hooks), one cold load, then `runs` warm
loads (time to data-ready and to the first board click answered), `runs` live-inference strokes
drawn with WebDriver pointer actions (the app's predict frame callback, timed in the page) and
`runs` training runs at batch 32 and 128 (samples/s from the page's status).
"""
import statistics
import time

from bench import browser
from bench.stats import figure, percentile

BENCH_PROBE_PATH = "/__bench_probe__.js"
METRICS = [  # (key, label, unit, better)
    ("ready", "warm load: time to data-ready", "ms", "lower"),
    ("click", "warm load: first board click answered", "ms after navigation", "lower"),
    ("train_b32", "worker training, batch 32", "samples/s", "higher"),
    ("train_b128", "worker training, batch 128", "samples/s", "higher"),
    ("inference", "live digit inference, median", "ms", "lower"),
    ("inference_p95", "live digit inference, p95", "ms", "lower"),
    ("inference_cnn", "live digit inference with the CNN chosen, median", "ms", "lower"),
    ("inference_cnn_p95", "live digit inference with the CNN chosen, p95", "ms", "lower"),
    ("switch_longtask", "longest main-thread task on a view switch while training (Chromium: Long Tasks API)",
     "ms", "lower"),
]
SWITCH_AND_BACK = r"""
const done = arguments[arguments.length - 1], b = window.__bench, start = performance.now();
location.hash = '#tictactoe';
const back = () => { location.hash = '#digits'; setTimeout(() => done([start, performance.now()]), 1500); };
const wait = () => document.getElementById('tictactoe').dataset.ready === 'true' ? setTimeout(back, 1500) : setTimeout(wait, 20);
wait();
"""


def inference_stroke(driver):
    """One '7' drawn with pointer actions; the app's prediction frames timed by the probe."""
    from tests.support import engines
    js = driver.execute_script
    js("location.hash = '#digits'")
    time.sleep(0.2)
    js("document.getElementById('grid').scrollIntoView({block: 'center'})")
    js("document.getElementById('grid-clear').click()")
    js(browser.INFERENCE_PROBE)
    box = js("const r = document.getElementById('grid').getBoundingClientRect();"
             "return {x: r.x, y: r.y, width: r.width, height: r.height}")
    centre = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    offsets = [(round(x - centre[0]), round(y - centre[1])) for x, y in browser.stroke_points(box)]
    engines.pointer_strokes(driver, driver.find_element("css selector", "#grid"), [offsets])
    time.sleep(0.3)
    return js("return window.__bench.inf.samples")


def view_switch(driver):
    """Longest main-thread task from switching to Tic-tac-toe and back while the worker trains
    (0 when none passed 50 ms); None where the engine has no Long Tasks API."""
    js = driver.execute_script
    if not js("return PerformanceObserver.supportedEntryTypes.includes('longtask')"):
        return None
    js("location.hash = '#digits'")
    browser.wait_for(driver, "!document.getElementById('train-start').disabled")
    js("document.getElementById('train-start').click()")
    browser.wait_for(driver, "+document.getElementById('train-status').dataset.iteration > 20", timeout=60)
    start, end = driver.execute_async_script(SWITCH_AND_BACK)
    tasks = js("return window.__bench.longtasks")
    js("document.getElementById('train-pause').click()")
    return max((d for t, d in tasks if start <= t <= end), default=0.0)


def measure(engine, server, runs, train_window, train_warmup, log):
    from tests.support import engines
    driver = engines.start(engine)
    try:
        browser.load(driver, server)                    # cold: fills the cache
        warm = [browser.load(driver, server) for _ in range(runs)]
        strokes = [inference_stroke(driver) for _ in range(runs)]
        training = [browser.train_run(driver, train_warmup, train_window) for _ in range(runs)]
        switches = [view_switch(driver) for _ in range(runs)]
        driver.execute_script("const s = document.getElementById('digits-model'); s.value = 'mnist-cnn';"
                              "s.dispatchEvent(new Event('change', {bubbles: true}))")
        browser.wait_for(driver, "document.getElementById('predictor-info').textContent.includes('CNN')")
        cnn_strokes = [inference_stroke(driver) for _ in range(runs)]
        agent = driver.execute_script("return navigator.userAgent")
    finally:
        driver.quit()
    values = {
        "ready": [w["ready_ms"] for w in warm], "click": [w["click_ms"] for w in warm],
        "train_b32": [t["rate_b32"] for t in training if t["rate_b32"]],
        "train_b128": [t["rate_b128"] for t in training if t["rate_b128"]],
        "inference": [statistics.median(s) for s in strokes if s],
        "inference_p95": [percentile(s, 95) for s in strokes if s],
        "inference_cnn": [statistics.median(s) for s in cnn_strokes if s],
        "inference_cnn_p95": [percentile(s, 95) for s in cnn_strokes if s],
        "switch_longtask": [v for v in switches if v is not None],
    }
    log(f"  {engine}: ready {statistics.median(values['ready']):.0f} ms, click {statistics.median(values['click']):.0f} ms, "
        f"b32 {statistics.median(values['train_b32'] or [0]):.0f} /s, b128 {statistics.median(values['train_b128'] or [0]):.0f} /s, "
        f"inference {statistics.median(values['inference'] or [float('nan')]):.2f} ms")
    return values, agent


def run(runs=3, train_window=10.0, train_warmup=3.0, log=print, only=None):
    """Every engine's figures, or {"skipped": reason}; an engine that is not installed is a note."""
    reason = browser.wheel_reason()
    if reason:
        return {"skipped": f"engines part skipped: {reason}"}
    from tests.support import engines, site
    server = site.start(browser.ROOT, head_scripts={BENCH_PROBE_PATH: browser.PROBE.encode()})
    browser.reset_tally(server)
    server.count = lambda *args, **kwargs: None     # browser.load resets the tally; nothing counts here
    figures, notes, agents = [], [], {}
    try:
        for engine in only or engines.ENGINES:
            missing = engines.missing(engine)
            if missing:
                notes.append(f"{engine} not measured: {missing}")
                continue
            try:
                values, agents[engine] = measure(engine, server, runs, train_window, train_warmup, log)
            except Exception as error:
                notes.append(f"{engine} failed: {type(error).__name__}: {str(error).splitlines()[0]}")
                continue
            for key, label, unit, better in METRICS:
                figures.append(figure(f"engines.{engine}.{key}", "engines", f"{engine}: {label}", unit,
                                      values[key], better=better))
    finally:
        server.shutdown()
    notes.append("served from the repository root, uncompressed, with the bench probe first in the page; "
                 "inference strokes are WebDriver pointer actions in every engine")
    return {"figures": figures, "meta": {"notes": notes, "user_agents": agents}}
