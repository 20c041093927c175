"""bench/peers.py's figures and results.md's peers table, from made-up runs (no browser)."""
from bench import peers, report
from tools import vendor

RUNS = {  # contender -> row -> values per run
    "falken": {"mlp_b1": [400, 500, 600], "mlp_b32": [3000, 3300, 3600], "mlp_b128": [5000, 5000, 5000],
               "mlp_infer": [0.05, 0.06, 0.07], "cnn_b32": [200, 210, 220], "cnn_infer": [2.0, 2.0, 2.0]},
    "falken-worker": {"mlp_b1": [450, 450, 450]},
    "tfjs-wasm": {"mlp_b1": [100, 100, 100], "mlp_b32": [1500, 1600, 1700], "mlp_b128": [2500, 2500, 2500],
                  "mlp_infer": [0.1, 0.12, 0.14], "cnn_b32": [], "cnn_infer": [0.5, 0.5, 0.5]},
    "convnetjs": {"mlp_b1": [250, 250, 250], "mlp_b32": [900, 900, 900], "mlp_b128": [800, 800, 800],
                  "mlp_infer": [0.04, 0.04, 0.04], "cnn_b32": [25, 25, 25], "cnn_infer": [10, 10, 10]},
}


def by_id(figures):
    return {f["id"]: f for f in figures}


def test_falken_is_divided_by_the_best_peer_of_each_row():
    f = by_id(peers.engine_figures("chromium", RUNS))
    b1 = f["peers.chromium.ratio_best.mlp_b1"]
    assert b1["reference"] == "convnetjs" and b1["median"] == 500 / 250
    assert (b1["min"], b1["max"]) == (400 / 250, 600 / 250)
    assert b1["met"] is True                                   # ≥ 2.0× the best peer
    b32 = f["peers.chromium.ratio_best.mlp_b32"]
    assert b32["reference"] == "tfjs-wasm" and b32["median"] == 3300 / 1600 and b32["met"] is True
    assert (b32["min"], b32["max"]) == (3000 / 1700, 3600 / 1500)
    assert f["peers.chromium.ratio_best.mlp_b128"]["met"] is True
    # inference: lower is better, so the best peer is the fastest (ConvNetJS here) ...
    infer = f["peers.chromium.ratio_best.mlp_infer"]
    assert infer["reference"] == "convnetjs" and infer["median"] == 0.06 / 0.04 and "met" not in infer
    # ... but issue 13 judges predict_proba against TF.js wasm
    assert f["peers.chromium.ratio_tfjs-wasm.mlp_infer"]["median"] == 0.06 / 0.12
    assert f["peers.chromium.ratio_tfjs-wasm.mlp_infer"]["met"] is True


def test_a_peer_that_cannot_train_has_no_figure_and_the_target_falls_to_the_best_that_can():
    f = by_id(peers.engine_figures("firefox", RUNS))
    assert "peers.firefox.cnn_b32.tfjs-wasm" not in f
    assert "peers.firefox.ratio_tfjs-wasm.cnn_b32" not in f
    cnn = f["peers.firefox.ratio_best.cnn_b32"]
    assert cnn["reference"] == "convnetjs" and cnn["median"] == 210 / 25 and cnn["met"] is True
    assert "ConvNetJS" in cnn["target"]["text"]


def test_a_miss_is_recorded_as_a_miss():
    slow = {**RUNS, "falken": {**RUNS["falken"], "mlp_b32": [1000, 1000, 1000]}}
    f = by_id(peers.engine_figures("webkit", slow))
    assert f["peers.webkit.ratio_best.mlp_b32"]["met"] is False


def test_results_md_has_one_peers_table_per_engine():
    figures = peers.engine_figures("chromium", RUNS) + peers.engine_figures("webkit", RUNS)
    results = {"date": "today", "label": "", "runs": 3, "versions": {"@tensorflow/tfjs": "4.22.0"},
               "machine": {"cpu": "cpu", "cores": 2, "memory_gib": 4, "os": "Linux"},
               "parts": {"peers": {"notes": ["a note"]}}, "figures": figures}
    text = report.render(results)
    assert "### chromium" in text and "### webkit" in text
    row = next(line for line in text.splitlines() if line.startswith("| MLP training, batch 1 |"))
    assert "ConvNetJS 250" in row and "**2.00×** (1.60–2.40)" in row
    assert "@tensorflow/tfjs 4.22.0" in text
    assert "MLP training ≥ 2.0× the best peer" in text


def test_the_peer_libraries_are_pinned_with_integrity_and_never_go_into_the_site():
    specs = {k: v for k, v in vendor.LOCK["bench_npm"].items() if not k.startswith("_")}
    assert {s["package"]: s["version"] for s in specs.values()} == {
        "@tensorflow/tfjs": "4.22.0", "@tensorflow/tfjs-backend-wasm": "4.22.0", "convnetjs": "0.3.0"}
    for spec in specs.values():
        assert spec["integrity"].startswith("sha512-") and spec["dest"].startswith("build/")
