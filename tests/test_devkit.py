"""The dev-kit CLIs (python -m devkit.train / devkit.evaluate) and browser-safety of models/."""
import re
import subprocess
import sys
from pathlib import Path

import pytest

from devkit import evaluate as ev
from models import knowledge as K
from devkit import train

ROOT = Path(__file__).resolve().parent.parent
MINE = ["layers", "optim", "lstm", "rnn", "tictactoe", "ttt_player", "mlp", "preprocess",
        "charrnn", "charlstm", "knowledge"]


def run(*args):
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_train_and_evaluate_text_from_the_command_line(tmp_path):
    corpus = tmp_path / "tiny.txt"
    corpus.write_text("Ham.\nTo be, or not to be: that is the question.\n" * 40)
    out = tmp_path / "text.npz"
    r = run("-m", "devkit.train", "text", "--text", str(corpus), "--steps", "30", "--hidden", "16",
            "--seq-len", "10", "--batch", "4", "--seed", "3", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert "text: 100%" in r.stderr                      # the tqdm bar ran
    m = K.load(out)
    assert m.metrics["steps"] == 30 and m.hyper["hidden"] == 16 and m.metrics["corpus"] == "tiny.txt"
    r = run("-m", "devkit.evaluate", str(out), "--text", str(corpus))
    assert r.returncode == 0 and "val_loss_per_char:" in r.stdout and "sample_t0.7:" in r.stdout


def test_train_lstm_on_works_with_held_out_works_and_a_learning_curve(tmp_path):
    works = tmp_path / "works"
    works.mkdir()
    for name, line in (("a.txt", "Ham.\nTo be, or not to be.\n"), ("b.txt", "Oph.\nMy lord, to be.\n"),
                       ("c.txt", "Hor.\nNot to be, my lord.\n"), ("notes.md", "ignored")):
        (works / name).write_text(line * 30)
    out, log, ck = tmp_path / "lstm.npz", tmp_path / "curve.log", tmp_path / "ck.npz"
    train.main(["text", "--model", "lstm", "--text", str(works), "--held-out", "b.txt,c.txt",
                "--hidden", "8", "--steps", "20", "--seq-len", "8", "--batch", "2", "--lr", "1e-2",
                "--eval-every", "10", "--log", str(log), "--checkpoint", str(ck), "--out", str(out),
                "--quiet"])
    m = K.load(out)
    metrics = m.metrics
    assert m.KIND == "char-lstm" and metrics["corpus_chars"] == len((works / "a.txt").read_text())
    assert sorted(metrics["held_out_works"]) == ["b.txt", "c.txt"]
    assert metrics["held_out_works"]["b.txt"]["chars"] == len((works / "b.txt").read_text())
    steps = [s for s, _ in metrics["learning_curve"]]
    assert steps == [0, 10, 20] and metrics["learning_curve"][-1][1] == metrics["held_out_loss_per_char"]
    assert metrics["learning_curve"][-1][1] < metrics["learning_curve"][0][1]      # it learned
    by_work = [metrics["held_out_works"][w]["nats_per_char"] for w in ("b.txt", "c.txt")]
    assert min(by_work) <= metrics["held_out_loss_per_char"] <= max(by_work)
    assert by_work[0] == pytest.approx(m.nats_per_char((works / "b.txt").read_text()), abs=1e-4)
    assert len(log.read_text().splitlines()) == 3 and "held_out_nats_per_char" in log.read_text()
    assert K.load(ck).metrics["steps"] == 20
    figures = ev.main([str(out), "--text", str(works)])          # devkit.evaluate re-scores them
    assert figures["held_out_loss_per_char"] == pytest.approx(metrics["held_out_loss_per_char"], abs=1e-4)
    with pytest.raises(SystemExit, match="d.txt"):
        train.train_text(str(works), model_kind="lstm", held_out=["d.txt"], quiet=True)


def test_training_is_seeded(tmp_path):
    corpus = tmp_path / "tiny.txt"
    corpus.write_text("abcabcabd\n" * 100)
    a = train.train_text(str(corpus), hidden=8, steps=5, seq_len=8, batch=2, seed=1, quiet=True)
    b = train.train_text(str(corpus), hidden=8, steps=5, seq_len=8, batch=2, seed=1, quiet=True)
    c = train.train_text(str(corpus), hidden=8, steps=5, seq_len=8, batch=2, seed=2, quiet=True)
    assert (a.params["Wh"] == b.params["Wh"]).all() and not (a.params["Wh"] == c.params["Wh"]).all()


def test_train_tictactoe_with_snapshots_then_evaluate(tmp_path, capsys):
    out, snap = tmp_path / "t.npz", tmp_path / "t-early.npz"
    train.main(["tictactoe", "--hidden", "8", "--steps", "6", "--snapshot", f"3:{snap}",
                "--out", str(out), "--quiet"])
    assert K.load(snap).metrics["steps"] == 3 and K.load(out).metrics["steps"] == 6
    figures = ev.main([str(out)])
    text = capsys.readouterr().out
    assert 0 < figures["optimal_move_rate"] < 1 and "play_out_as_X:" in text and "play_out_as_O:" in text
    assert sum(figures["play_out_as_O"].values()) > 0


@pytest.mark.skipif(not (ROOT / "static/data/mnist/manifest.json").exists(), reason="run `make data`")
def test_train_and_evaluate_digits(tmp_path, capsys):
    out = tmp_path / "d.npz"
    train.main(["digits", "--epochs", "1", "--out", str(out), "--quiet"])
    figures = ev.main([str(out)])
    assert figures["test_accuracy"] > 0.85 and figures["test_count"] == 2000
    assert "test_accuracy:" in capsys.readouterr().out


def test_evaluate_explains_a_bad_file(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"definitely not a zip")
    r = run("-m", "devkit.evaluate", str(bad))
    assert r.returncode != 0 and "not a zip" in r.stderr and "Traceback" not in r.stderr


def test_browser_modules_import_nothing_the_browser_lacks():
    code = ("import sys, models.knowledge as K, models.mlp, models.charrnn, models.charlstm, "
            "models.ttt_player, models.preprocess, models.tictactoe, models.optim\n"
            "for m in (models.mlp.MLP(hidden=4), models.charrnn.CharRNN('ab', hidden=2), "
            "models.charlstm.CharLSTM('ab', hidden=2), "
            "models.ttt_player.TicTacToeLSTM(hidden=2)): K.load(K.to_bytes(m))\n"
            "bad = {'tqdm', 'hypothesis', 'js', 'pyscript', 'pyodide', 'multiprocessing', 'concurrent'}\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in bad))")
    r = run("-c", code)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"
    for name in MINE:
        src = (ROOT / "models" / f"{name}.py").read_text()
        assert not re.search(r"^\s*(import|from)\s+(js|pyscript|pyodide|tqdm|hypothesis|multiprocessing)\b", src, re.M), name
        assert "Thread(" not in src and "allow_pickle=True" not in src and "import pickle" not in src, name


def test_models_holds_only_the_runtime_the_page_loads_and_never_imports_the_devkit():
    shipped = set(re.findall(r'"\./models/(\w+)\.py"', (ROOT / "pyscript.toml").read_text()))
    present = {p.stem for p in (ROOT / "models").glob("*.py")}
    assert present == shipped, f"models/ modules the page does not load: {sorted(present - shipped)}"
    for folder in ("models", "app"):
        for path in (ROOT / folder).glob("*.py"):
            assert not re.search(r"^\s*(import|from)\s+devkit\b", path.read_text(), re.M), path
