"""`make site`: exactly the files the page needs, gzip-encoded where it pays, with a file list."""
import gzip
import hashlib
import json
import random

import pytest

from tools import site

PAGE = """<!doctype html><html><head>
<link rel="stylesheet" href="./static/css/a.css"><script type="module" src="./static/vendor/x/core.js"></script>
<a href="#digits">d</a><a href="https://example.org/">out</a>
</head><body><script type="py" src="./app/main.py" config="./pyscript.toml"></script></body></html>"""
CONFIG = """interpreter = "./static/vendor/py/pyodide.mjs"
[files]
"./static/vendor/wheels/w-1.0-py3-none-any.whl" = "./*"
"./app/main.py" = "./app/main.py"
"""


def make_root(root):
    files = {
        "index.html": PAGE, "pyscript.toml": CONFIG, "static/css/a.css": "body{}" * 200,
        "static/vendor/x/core.js": "export const a = 1;\n" * 300, "static/vendor/py/pyodide.mjs": "x" * 50,
        "static/vendor/wheels/w-1.0-py3-none-any.whl": random.Random(0).randbytes(3000),
        "static/vendor/py/.vendored.json": "{}", "app/main.py": "print('hi')\n" * 40, "app/trainer.py": "x = 2\n",
        "app/__pycache__/main.cpython-311.pyc": "junk", "models/mlp.py": "x = 1\n",
        "models/idx.py": "# data build only\n", "knowledge/a.npz": "k" * 5000,
        "static/data/mnist/manifest.json": "{}", "static/data/mnist.building/x.npz": "partial",
        "tests/test_x.py": "", "Makefile": "", "tools/site.py": "", "README.md": "",
    }
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(text if isinstance(text, bytes) else text.encode())
    return root


def build(tmp_path):
    root = make_root(tmp_path / "repo")
    return root, site.build(root, tmp_path / "out" / "site", tmp_path / "out" / "files.json")


def test_exactly_the_page_files(tmp_path):
    _, listing = build(tmp_path)
    assert [f["path"] for f in listing["files"]] == sorted([
        "index.html", "pyscript.toml", "app/main.py", "app/trainer.py", "knowledge/a.npz",
        "static/css/a.css", "static/vendor/x/core.js", "static/vendor/py/pyodide.mjs",
        "static/vendor/wheels/w-1.0-py3-none-any.whl", "static/data/mnist/manifest.json"])


def test_gzip_where_it_pays_and_the_list_matches_the_bytes(tmp_path):
    root, listing = build(tmp_path)
    out = tmp_path / "out" / "site"
    for entry in listing["files"]:
        stored = (out / entry["path"]).read_bytes()
        raw = (root / entry["path"]).read_bytes()
        assert hashlib.sha256(stored).hexdigest() == entry["sha256"] and len(stored) == entry["bytes"]
        assert hashlib.sha256(raw).hexdigest() == entry["raw_sha256"]
        if entry["content_encoding"] == "gzip":
            assert gzip.decompress(stored) == raw and len(stored) < 0.9 * len(raw)
        else:
            assert stored == raw
    encoding = {f["path"]: f["content_encoding"] for f in listing["files"]}
    assert encoding["static/vendor/x/core.js"] == "gzip" and encoding["knowledge/a.npz"] == "gzip"
    assert encoding["static/vendor/wheels/w-1.0-py3-none-any.whl"] is None  # random: no gain
    assert encoding["static/vendor/py/pyodide.mjs"] == "gzip"
    assert json.loads((tmp_path / "out" / "files.json").read_text()) == listing


def test_rebuilds_are_byte_identical(tmp_path):
    _, first = build(tmp_path)
    (tmp_path / "out" / "files.json").unlink()  # force recompression rather than reuse
    _, second = build(tmp_path)
    assert first == second


def test_a_missing_referenced_file_fails_the_build(tmp_path):
    root = make_root(tmp_path / "repo")
    (root / "app" / "main.py").unlink()
    with pytest.raises(site.SiteError, match="app/main.py"):
        site.build(root, tmp_path / "out" / "site", tmp_path / "out" / "files.json")


def test_urls_outside_the_site_are_refused():
    with pytest.raises(site.SiteError, match="outside"):
        site.local_path("../../etc/passwd")
    assert site.local_path("https://cdn.example/x.js") is None
    assert site.local_path("./a/../b/c.js?v=1") == "b/c.js"


def test_the_real_site_builds(tmp_path):
    listing = site.build(site.ROOT, tmp_path / "site", tmp_path / "files.json")
    paths = {f["path"] for f in listing["files"]}
    assert {"index.html", "pyscript.toml", "app/cache.py", "models/blocks.py",
            "static/vendor/pyodide/pyodide.asm.wasm", "static/data/mnist/manifest.json"} <= paths
    assert not any(p.startswith(("tests/", "tools/")) or p == "Makefile" for p in paths)
    assert "app/trainer.py" in paths and not {"models/train.py", "models/evaluate.py", "models/idx.py"} & paths
    manifest = json.loads((site.ROOT / "static/data/mnist/manifest.json").read_text())
    assert {f"static/data/mnist/{b['file']}" for b in manifest["blocks"]} <= paths


def test_the_trimmed_runtime_archives_travel_gzip_encoded(tmp_path):
    listing = site.build(site.ROOT, tmp_path / "site", tmp_path / "files.json")
    by_path = {f["path"]: f for f in listing["files"]}
    stdlib = by_path["static/vendor/pyodide/python_stdlib.zip"]
    assert stdlib["content_encoding"] == "gzip" and stdlib["bytes"] < 0.5 * stdlib["raw_bytes"]
    wheels = [f for p, f in by_path.items() if p.startswith("static/vendor/pyodide/numpy-")]
    assert all(f["content_encoding"] == "gzip" for f in wheels)
