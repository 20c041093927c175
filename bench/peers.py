"""Peers half of `make bench`: Falken against TensorFlow.js and ConvNetJS, the same models, in one
browser session per engine (Chromium, Firefox, WebKit through tests/support/engines.py).

The peers come from npm at pinned versions, integrity-checked (tools/vendor.lock.json `bench_npm`,
unpacked into build/peers/, never into the site): @tensorflow/tfjs + @tensorflow/tfjs-backend-wasm
4.22.0 (the wasm backend, SIMD where the engine has it, and the cpu backend) and convnetjs 0.3.0.
Each trains, in a web worker of bench/peers.html (bench/peers_worker.js), the digits MLP and CNN
with Falken's sizes, init scale, softmax cross-entropy and Adam (lr 1e-3) on the real MNIST blocks:
samples/s over timed windows after a warm-up, then one digit's prediction (median of many calls).

Falken's figures in the same session: the app itself for MLP training (its trainer worker driven
through the Digits view's batch slider, samples/s from #train-status), and for the CNN and for
predict_proba a PyScript worker running models/ by the peers' protocol (bench/peers_falken.py,
started by bench/page.html?peers=…); that worker's MLP training is shown beside the app's.
"""
import json
import statistics
import time
from pathlib import Path
from urllib.parse import quote

from bench import browser
from bench.stats import figure, ratio_figure

ROOT = Path(__file__).resolve().parent.parent
WARMUP_S = 1.0                 # before every timed batch size
WINDOW_S = 2.5                 # one timed training window (a run)
INFER_SAMPLES = 15             # timed groups of predictions per run ...
INFER_SAMPLE_S = 0.03          # ... each about this long (timers are coarse without isolation)
WORKER_BOOT_S = 240            # the app's trainer or the bench worker: Pyodide + numpy on a busy machine
PEER_TIMEOUT_S = 600
MLP_BATCHES, CNN_BATCH = (1, 32, 128), 32
PEERS = {"tfjs-wasm": "TF.js wasm", "tfjs-cpu": "TF.js cpu", "convnetjs": "ConvNetJS"}
FALKEN = {"falken": "Falken", "falken-worker": "Falken bare worker"}
ROWS = [  # (key, label, unit, better, model, batch or None for inference)
    ("mlp_b1", "MLP training, batch 1", "samples/s", "higher", "mlp", 1),
    ("mlp_b32", "MLP training, batch 32", "samples/s", "higher", "mlp", 32),
    ("mlp_b128", "MLP training, batch 128", "samples/s", "higher", "mlp", 128),
    ("mlp_infer", "MLP inference, one digit", "ms", "lower", "mlp", None),
    ("cnn_b32", "CNN training, batch 32", "samples/s", "higher", "cnn", CNN_BATCH),
    ("cnn_infer", "CNN inference, one digit", "ms", "lower", "cnn", None),
]
# Issue 13's targets, judged on the ratio to the named reference ("best": the best peer).
TARGETS = {
    "mlp_b1": ("best", ">=", 2.0, "MLP training ≥ 2.0× the best peer"),
    "mlp_b32": ("best", ">=", 2.0, "MLP training ≥ 2.0× the best peer"),
    "mlp_b128": ("best", ">=", 2.0, "MLP training ≥ 2.0× the best peer"),
    "cnn_b32": ("tfjs-wasm", ">=", 1.0, "CNN training ≥ 1.0× TF.js-wasm"),
    "mlp_infer": ("tfjs-wasm", "<=", 1.0, "single-digit predict_proba ≤ TF.js-wasm's latency"),
}


def vendor_peers():
    """Unpack the pinned peer libraries into build/peers/ (npm pack + integrity, once)."""
    from tools import vendor
    keys = [k for k in vendor.LOCK["bench_npm"] if not k.startswith("_")]
    for key in keys:
        vendor.vendor_npm(key, "bench_npm")
    return {vendor.LOCK["bench_npm"][k]["package"]: vendor.LOCK["bench_npm"][k]["version"] for k in keys}


def model_sizes():
    """The shipped models' sizes: every contender builds these."""
    from models import knowledge
    mlp = knowledge.read_meta(ROOT / "knowledge" / "digits.npz")["hyper"]
    cnn = knowledge.read_meta(ROOT / "knowledge" / "digits-cnn.npz")["hyper"]
    return {"hidden": mlp["hidden"], "conv1": cnn["conv1"], "conv2": cnn["conv2"]}


def spec(runs):
    return dict(model_sizes(), manifest="../static/data/mnist/manifest.json",
                plan=[["mlp", list(MLP_BATCHES)], ["cnn", [CNN_BATCH]]], warmup=WARMUP_S, window=WINDOW_S,
                runs=runs, inferSamples=INFER_SAMPLES, inferSampleS=INFER_SAMPLE_S)


# -- the contenders ---------------------------------------------------------------------------------
def app_training(driver, url, runs):
    """{batch: [samples/s per window]} of the app's own trainer worker, driven like a visitor."""
    js = driver.execute_script
    driver.get(url + "#digits")
    browser.wait_for(driver, "document.body.dataset.worker || document.body.dataset.ready === 'error'",
                     timeout=WORKER_BOOT_S, poll=0.5)
    if js("return document.body.dataset.worker") != "ready":
        raise RuntimeError("the app's trainer did not start: "
                           + js("return document.getElementById('errors').innerText"))
    browser.wait_for(driver, "!document.getElementById('train-start').disabled", timeout=60)
    browser.set_slider(driver, "batch-size", MLP_BATCHES[0])
    js("window.__bench = window.__bench || {}")
    js(browser.STATUS_LOG)
    js("document.getElementById('train-start').click()")
    browser.wait_for(driver, "+document.getElementById('train-status').dataset.iteration > 0", timeout=60)
    marks = []
    for batch in MLP_BATCHES:
        browser.set_slider(driver, "batch-size", batch)
        time.sleep(WARMUP_S)
        for _ in range(runs):
            t0 = js("return performance.now()")
            time.sleep(WINDOW_S)
            marks.append((batch, t0, js("return performance.now()")))
    log = js("return window.__bench.statusLog")
    js("document.getElementById('train-pause').click()")
    rates = {batch: [] for batch in MLP_BATCHES}
    for batch, t0, t1 in marks:
        rate, _ = browser.window_rate(log, t0, t1, batch)
        if rate:
            rates[batch].append(rate)
    return rates


def falken_worker(driver, url, runs):
    driver.get(url + "bench/page.html?peers=" + quote(json.dumps(spec(runs))))
    result = json.loads(browser.wait_for(driver, "document.body.dataset.bench", timeout=PEER_TIMEOUT_S, poll=0.5))
    if "error" in result:
        raise RuntimeError(f"bench/peers_falken.py: {result['error']}")
    return result


def peer(driver, url, lib, runs):
    driver.get(url + "bench/peers.html")
    driver.execute_script("window.__peers.run(arguments[0])", dict(spec(runs), lib=lib))
    result = json.loads(browser.wait_for(driver, "window.__peers.done && JSON.stringify(window.__peers.result)",
                                         timeout=PEER_TIMEOUT_S, poll=0.5))
    if "error" in result:
        raise RuntimeError(result["error"].splitlines()[0])
    return result["result"]


def row_values(result, model, batch):
    part = result.get(model, {})
    if batch is None:
        return part.get("infer_ms", [])
    return part.get("train", {}).get(str(batch), [])


def measure(engine, url, runs, log):
    """{contender: {row: [values]}}, notes, user agent: one engine's session."""
    from tests.support import engines
    values, notes, meta = {}, [], {}
    driver = engines.start(engine)
    try:
        agent = driver.execute_script("return navigator.userAgent")
        app = app_training(driver, url, runs)
        log(f"  {engine}: app training " + ", ".join(f"b{b} {statistics.median(r or [0]):.0f}/s" for b, r in app.items()))
        bare = falken_worker(driver, url, runs)
        falken = {key: row_values(bare, model, batch) for key, _, _, _, model, batch in ROWS}
        values["falken-worker"] = {key: falken[key] for key, *_ in ROWS[:3]}
        falken.update({f"mlp_b{b}": app[b] for b in MLP_BATCHES})
        values["falken"] = falken
        meta["falken"] = bare["meta"]
        for lib, name in PEERS.items():
            try:
                result = peer(driver, url, lib, runs)
            except Exception as error:
                notes.append(f"{engine}: {name} failed: {type(error).__name__}: {str(error).splitlines()[0]}")
                continue
            values[lib] = {key: row_values(result, model, batch) for key, _, _, _, model, batch in ROWS}
            meta[lib] = result["meta"]
            for model in ("mlp", "cnn"):
                for batch, why in result.get(model, {}).get("unsupported", {}).items():
                    notes.append(f"{engine}: {name} cannot train the {model.upper()} (batch {batch}): {why}")
            log(f"  {engine}: {name}: " + ", ".join(
                f"{key} {statistics.median(v):.3g}" for key, v in values[lib].items() if v))
    finally:
        driver.quit()
    return values, notes, {"user_agent": agent, "libraries": meta}


# -- figures ------------------------------------------------------------------------------------------
def engine_figures(engine, values):
    figures = []
    names = {**FALKEN, **PEERS}
    for key, label, unit, better, _, _ in ROWS:
        row = {}
        for contender, by_row in values.items():
            if by_row.get(key):
                f = figure(f"peers.{engine}.{key}.{contender}", "peers", f"{engine}: {label}, {names[contender]}",
                           unit, by_row[key], better=better)
                f.update(engine=engine, row=key, row_label=label, contender=contender, contender_label=names[contender])
                figures.append(f)
                row[contender] = f
        peers = [row[p] for p in PEERS if p in row]
        if "falken" not in row or not peers:
            continue
        pick = max if better == "higher" else min
        best = pick(peers, key=lambda f: f["median"])
        references = {"best": best, "tfjs-wasm": row.get("tfjs-wasm")}
        reference_name, *target = TARGETS.get(key, ("best",))
        if reference_name == "tfjs-wasm" and references["tfjs-wasm"] is None:
            reference_name = "best"          # e.g. tfjs-wasm cannot train the CNN: the best that can
        for ref in ("best", "tfjs-wasm"):
            if references[ref] is None or not references[ref]["median"]:
                continue                     # a zero would only say the timer was too coarse
            judged = target if ref == reference_name else []
            text = (f"issue 13: {judged[2]} (judged against {names[references[ref]['contender']]})"
                    if judged else None)
            f = ratio_figure(f"peers.{engine}.ratio_{ref}.{key}", "peers",
                             f"{engine}: {label}, Falken ÷ {'best peer' if ref == 'best' else 'TF.js wasm'}",
                             row["falken"], references[ref],
                             target=(judged[0], judged[1], text) if judged else None)
            f.update(engine=engine, row=key, row_label=label, contender=f"ratio_{ref}",
                     reference=references[ref]["contender"])
            figures.append(f)
    return figures


def run(runs=3, log=print, only=None):
    """Every engine's (or those in `only`) peers figures, or {"skipped": reason}; an engine not
    installed is a note."""
    reason = browser.wheel_reason()
    if reason:
        return {"skipped": f"peers part skipped: {reason}"}
    try:
        versions = vendor_peers()
    except Exception as error:
        return {"skipped": f"peers part skipped: the peer libraries could not be vendored ({error})"}
    from tests.support import engines
    from tools import serve
    server = serve.start_in_thread(ROOT)
    figures, notes, sessions = [], [], {}
    try:
        for engine in only or engines.ENGINES:
            missing = engines.missing(engine)
            if missing:
                notes.append(f"{engine} not measured: {missing}")
                continue
            log(f"  {engine}: app, Falken worker, {', '.join(PEERS.values())} …")
            try:
                values, engine_notes, sessions[engine] = measure(engine, server.url, runs, log)
                sessions[engine]["values"] = values
                figures += engine_figures(engine, values)
            except Exception as error:
                notes.append(f"{engine} failed: {type(error).__name__}: {str(error).splitlines()[0]}")
                continue
            notes += engine_notes
    finally:
        server.shutdown()
    notes += [f"{engine}: {session['user_agent']}" for engine, session in sessions.items()]
    notes.append(f"each contender: {WARMUP_S:g} s warm-up per batch size, then {runs} windows of {WINDOW_S:g} s "
                 f"(samples/s); inference: {runs} runs, each the median of {INFER_SAMPLES} groups of calls of "
                 f"~{INFER_SAMPLE_S * 1e3:.0f} ms (input array in, 10 probabilities out), after training")
    notes.append("Falken's MLP training rows are the app's trainer worker (the Digits view, batch slider); "
                 "its CNN and inference rows, and 'Falken bare worker', are bench/peers_falken.py in a "
                 "PyScript worker; peers run in a plain web worker each (bench/peers_worker.js)")
    notes.append("no cross-origin isolation (as on S3): TF.js wasm runs single-threaded; ConvNetJS 0.3.0's "
                 "Trainer has no Adam, so the worker applies Adam over net.getParamsAndGrads()")
    return {"figures": figures, "meta": {"notes": notes, "versions": versions, "sessions": sessions}}
