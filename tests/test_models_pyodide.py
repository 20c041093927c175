"""models/ runs unchanged in Pyodide (numpy 2.2.5) and gives the same answers as CPython.

Runs the vendored Pyodide under Node (no browser needed); skipped when either is missing."""
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from models import knowledge as K
from models.preprocess import drawing_to_mnist

ROOT = Path(__file__).resolve().parent.parent
PYODIDE = ROOT / "static" / "vendor" / "pyodide"
NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(
    not NODE or not (PYODIDE / "pyodide.mjs").exists() or not list(PYODIDE.glob("numpy-*.whl")),
    reason="needs node and the vendored Pyodide with its numpy wheel (make setup)")

RUNNER = """
import { loadPyodide } from "%(pyodide)s/pyodide.mjs";
import fs from "fs";
const py = await loadPyodide({ indexURL: "%(pyodide)s/" });
await py.loadPackage("numpy", { messageCallback: () => {} });
py.FS.mkdirTree("/repo");
py.FS.mount(py.FS.filesystems.NODEFS, { root: "%(root)s" }, "/repo");
py.FS.mkdirTree("/out");
py.FS.mount(py.FS.filesystems.NODEFS, { root: "%(out)s" }, "/out");
console.log(await py.runPythonAsync(fs.readFileSync("%(script)s", "utf8")));
"""

SCRIPT = """
import sys, json, time
sys.path.insert(0, "/repo")
import numpy as np
from models import knowledge as K
from models.preprocess import drawing_to_mnist
from models.mlp import MLP
res = {"numpy": np.__version__}
ttt = K.load(open("/repo/knowledge/tictactoe-hard.npz", "rb").read())
res["ttt"] = [ttt.choose(h) for h in ([], [0], [4], [4, 0, 8], [0, 4, 8])]
d = K.load("/repo/knowledge/digits.npz")
g = np.zeros((100, 80)); g[10:90, 30:40] = 1; g[80:90, 20:60] = 1
res["digit"] = d.predict_proba(drawing_to_mnist(g)[None])[0].tolist()
res["cnn_digit"] = K.load("/repo/knowledge/digits-cnn.npz").predict_proba(drawing_to_mnist(g)[None])[0].tolist()
res["sample"] = K.load("/repo/knowledge/text.npz").sample("Ham.\\n", 80, 0.7, 1)
lstm = K.load("/repo/knowledge/text-lstm.npz")
res["lstm_sample"] = lstm.sample("ROMEO.\\n", 80, 0.7, 1)
res["lstm_nats"] = lstm.nats_per_char(open("/repo/static/data/text/hamlet.txt", encoding="utf-8").read()[:3000])
t0 = time.perf_counter()
lstm.sample("", 400, 0.7, 2)
res["lstm_chars_per_s"] = 400 / (time.perf_counter() - t0)
m = MLP(seed=3)
rng = np.random.default_rng(0)
x, y = rng.random((64, 784)).astype(np.float32), rng.integers(0, 10, 64)
x[:, ::3] = 0       # blank pixels, as in MNIST: Pyodide skips them, CPython multiplies them
res["losses"] = [m.train_step(x, y) for _ in range(3)] + [m.train_step(x[:1], y[:1])]
open("/out/trained.npz", "wb").write(K.to_bytes(m))      # saved in Pyodide, loaded in CPython
from models.cnn import CNN
c = CNN(conv1=4, conv2=6, seed=3)
res["cnn_losses"] = [c.train_step(x, y) for _ in range(3)] + [c.train_step(x[:1], y[:1])]
open("/out/cnn.npz", "wb").write(K.to_bytes(c))
json.dumps(res)
"""


def test_models_behave_the_same_in_pyodide(tmp_path):
    (tmp_path / "script.py").write_text(SCRIPT)
    (tmp_path / "run.mjs").write_text(RUNNER % {"pyodide": PYODIDE, "root": ROOT, "out": tmp_path,
                                                "script": tmp_path / "script.py"})
    r = subprocess.run([NODE, str(tmp_path / "run.mjs")], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    res = json.loads(r.stdout.strip().splitlines()[-1])
    assert res["numpy"].startswith("2.2")
    # the same answers as CPython
    ttt = K.load(ROOT / "knowledge" / "tictactoe-hard.npz")
    assert res["ttt"] == [ttt.choose(h) for h in ([], [0], [4], [4, 0, 8], [0, 4, 8])]
    g = np.zeros((100, 80))
    g[10:90, 30:40] = 1
    g[80:90, 20:60] = 1
    d = K.load(ROOT / "knowledge" / "digits.npz")
    assert np.allclose(res["digit"], d.predict_proba(drawing_to_mnist(g)[None])[0], atol=1e-5)
    cnn = K.load(ROOT / "knowledge" / "digits-cnn.npz")
    assert np.allclose(res["cnn_digit"], cnn.predict_proba(drawing_to_mnist(g)[None])[0], atol=1e-5)
    assert res["sample"] == K.load(ROOT / "knowledge" / "text.npz").sample("Ham.\n", 80, 0.7, 1)
    lstm = K.load(ROOT / "knowledge" / "text-lstm.npz")
    assert res["lstm_sample"] == lstm.sample("ROMEO.\n", 80, 0.7, 1)
    hamlet = (ROOT / "static" / "data" / "text" / "hamlet.txt").read_text(encoding="utf-8")[:3000]
    assert res["lstm_nats"] == pytest.approx(lstm.nats_per_char(hamlet), abs=1e-4)
    assert res["lstm_chars_per_s"] >= 200, f"the LSTM writes {res['lstm_chars_per_s']:.0f} chars/s in Pyodide"
    # a file written in Pyodide loads in CPython and predicts like the same training done here
    from models.mlp import MLP
    m = MLP(seed=3)
    rng = np.random.default_rng(0)
    # 64 rows, so that both einsum kernels of models/products.py run in Pyodide
    x, y = rng.random((64, 784)).astype(np.float32), rng.integers(0, 10, 64)
    x[:, ::3] = 0
    losses = [m.train_step(x, y) for _ in range(3)] + [m.train_step(x[:1], y[:1])]
    assert np.allclose(res["losses"], losses, rtol=1e-4)
    back = K.load((tmp_path / "trained.npz").read_bytes())
    assert np.allclose(back.predict_proba(x), m.predict_proba(x), atol=1e-5)
    # the CNN too: Pyodide's einsum products train it like CPython's BLAS ones
    from models.cnn import CNN
    c = CNN(conv1=4, conv2=6, seed=3)
    losses = [c.train_step(x, y) for _ in range(3)] + [c.train_step(x[:1], y[:1])]
    assert np.allclose(res["cnn_losses"], losses, rtol=1e-4)
    back = K.load((tmp_path / "cnn.npz").read_bytes())
    assert np.allclose(back.predict_proba(x), c.predict_proba(x), atol=1e-5)
