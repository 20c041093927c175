"""`make site`: exactly the files the page needs, gzip-encoded where it pays, with a file list."""
import gzip
import hashlib
import io
import json
import random
import shutil
import zipfile

import numpy as np
import pytest

from models import blocks
from tools import mime, site, trim, vendor

PAGE = """<!doctype html><html><head>
<link rel="stylesheet" href="./static/css/a.css"><script type="module" src="./static/vendor/x/core.js"></script>
<a href="#digits">d</a><a href="https://example.org/">out</a>
</head><body><script type="py" src="./app/main.py" config="./pyscript.toml"></script></body></html>"""
CONFIG = """interpreter = "./static/vendor/py/pyodide.mjs"
[files]
"./static/vendor/wheels/w-1.0-py3-none-any.whl" = "./*"
"./app/main.py" = "./app/main.py"
"""


BLOCK = "static/data/mnist/train-000-dbe7966e.npz"   # named by its own sha256


def make_root(root):
    files = {
        "index.html": PAGE, "pyscript.toml": CONFIG, "static/css/a.css": "body{}" * 200,
        "static/vendor/x/core.js": "export const a = 1;\n" * 300, "static/vendor/py/pyodide.mjs": "x" * 50,
        "static/vendor/wheels/w-1.0-py3-none-any.whl": random.Random(0).randbytes(3000),
        "static/vendor/py/.vendored.json": "{}", "app/main.py": "print('hi')\n" * 40, "app/trainer.py": "x = 2\n",
        "app/__pycache__/main.cpython-311.pyc": "junk", "models/mlp.py": "x = 1\n",
        "models/idx.py": "# data build only\n", "knowledge/a.npz": "k" * 5000,
        "static/data/mnist/manifest.json": "{}", "static/data/mnist.building/x.npz": "partial",
        "static/js/offline-worker.js": "// the service worker's code\n", BLOCK: b"a data block\n" * 40,
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
        "static/vendor/wheels/w-1.0-py3-none-any.whl", "static/data/mnist/manifest.json",
        "static/js/offline-worker.js", BLOCK, "sw.js"])


def test_gzip_where_it_pays_and_the_list_matches_the_bytes(tmp_path):
    root, listing = build(tmp_path)
    out = tmp_path / "out" / "site"
    for entry in listing["files"]:
        stored = (out / entry["path"]).read_bytes()
        if entry["path"] in (site.PAGE, site.SERVICE_WORKER):    # written by the build: see below
            raw = gzip.decompress(stored) if entry["content_encoding"] else stored
        else:
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


def service_worker_site(text):
    """The `self.falkenSite = {...}` a built sw.js holds."""
    head, assignment, tail = text.splitlines()
    assert head.startswith("//") and tail == 'importScripts("./static/js/offline-worker.js");'
    return json.loads(assignment.removeprefix("self.falkenSite = ").removesuffix(";"))


def decoded(out, entry):
    stored = (out / entry["path"]).read_bytes()
    return gzip.decompress(stored) if entry["content_encoding"] else stored


def test_the_service_worker_keeps_every_file_but_the_blocks_under_the_version_stamped_on_the_page(tmp_path):
    root, listing = build(tmp_path)
    out = tmp_path / "out" / "site"
    by_path = {f["path"]: f for f in listing["files"]}
    kept = service_worker_site(decoded(out, by_path["sw.js"]).decode())
    assert kept["version"] == listing["version"] and len(kept["version"]) == site.VERSION_DIGITS
    page = decoded(out, by_path["index.html"])
    assert page == (root / "index.html").read_bytes().replace(
        b"<html>", f'<html data-site-version="{listing["version"]}">'.encode(), 1)
    # every file with the sha256 of the bytes the browser gets; the blocks are kept as fetched
    assert dict(kept["files"]) == {path: f["raw_sha256"] for path, f in by_path.items() if path not in (BLOCK, "sw.js")}
    assert by_path["sw.js"]["cache_control"] == mime.REVALIDATE
    assert by_path["sw.js"]["content_type"].startswith("text/javascript")


def test_any_changed_file_makes_a_new_version_and_a_new_service_worker(tmp_path):
    root, first = build(tmp_path)
    (root / "app/main.py").write_text("print('a new deploy')\n")
    second = site.build(root, tmp_path / "out2" / "site", tmp_path / "out2" / "files.json")
    before, after = ({f["path"]: f["raw_sha256"] for f in build["files"]} for build in (first, second))
    assert second["version"] != first["version"]
    assert {path for path in after if after[path] != before[path]} == {"app/main.py", "index.html", "sw.js"}
    rebuilt = site.build(root, tmp_path / "out3" / "site", tmp_path / "out3" / "files.json")
    assert rebuilt["version"] == second["version"]       # the version is the files', not the clock's


def test_a_site_without_the_service_workers_code_fails_the_build(tmp_path):
    root = make_root(tmp_path / "repo")
    (root / "static/js/offline-worker.js").unlink()
    with pytest.raises(site.SiteError, match="offline-worker.js"):
        site.build(root, tmp_path / "out" / "site", tmp_path / "out" / "files.json")


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


def test_every_immutable_file_of_the_real_site_is_named_by_its_own_hash(tmp_path):
    """What is cached for a year must be content-addressed; what Pyodide and PyScript name
    themselves (or the page names directly) is revalidated instead."""
    listing = site.build(site.ROOT, tmp_path / "site", tmp_path / "files.json")
    by_path = {f["path"]: f for f in listing["files"]}
    immutable = {p for p, f in by_path.items() if f["cache_control"] == mime.IMMUTABLE}
    for path in immutable:
        assert by_path[path]["raw_sha256"].startswith(mime.content_hash(path)), path
    manifest = json.loads((site.ROOT / "static/data/mnist/manifest.json").read_text())
    blocks = {f"static/data/mnist/{b['file']}" for b in manifest["blocks"]}
    numpy = f"static/vendor/pyodide/{vendor.pyodide_lock()['packages']['numpy']['file_name']}"
    assert immutable == blocks | ({numpy} & set(by_path))
    for fixed_name in ("static/vendor/pyodide/python_stdlib.zip", "static/vendor/pyodide/pyodide.asm.wasm",
                       "static/vendor/pyscript/core.js", "static/vendor/uplot/uPlot.iife.min.js"):
        assert by_path[fixed_name]["cache_control"] == mime.REVALIDATE


def fake_runtime(root, stdlib_dropped, numpy_dropped, images):
    """Pyodide's stdlib, a numpy wheel and MNIST blocks made by the real trimmer, wheel namer and
    block writer, into the site tree `root`."""
    def archive(names):
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zipped:
            for name in names:
                zipped.writestr(zipfile.ZipInfo(name, (2020, 1, 1, 0, 0, 0)), f"# {name}\n" * 50)
        return out.getvalue()
    pyodide = root / "static/vendor/py"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(trim, "STDLIB_DROPPED", stdlib_dropped)
        patch.setattr(trim, "NUMPY_DROPPED", numpy_dropped)
        (pyodide / "python_stdlib.zip").write_bytes(trim.trim_stdlib(archive(["json/__init__.py", "csv.py"])))
        wheel = trim.trim_numpy_wheel(archive(["numpy/__init__.py", "numpy/fft/__init__.py"]))
    for stale in pyodide.glob("numpy-*.whl"):
        stale.unlink()
    (pyodide / vendor.content_addressed_wheel_name("numpy-1.0-py3-none-any.whl", wheel)).write_bytes(wheel)
    shutil.rmtree(root / "static/data/mnist")
    blocks.write_blocks(root / "static/data/mnist", {"train": (images, np.arange(len(images), dtype=np.uint8) % 10)},
                        block_size=4, seed=0, source="test")


def test_a_file_whose_bytes_change_is_never_left_immutable_under_its_old_name(tmp_path):
    """Build, change one vendored archive's trim list, the wheel's and one data image, build
    again: every name that now holds other bytes is revalidated, and what is immutable either
    kept its bytes or got a new name."""
    root = make_root(tmp_path / "repo")
    images = np.random.default_rng(0).integers(0, 256, (8, 28, 28), dtype=np.uint8)
    fake_runtime(root, {"csv.py"}, ("numpy/fft/",), images)
    first = site.build(root, tmp_path / "one" / "site", tmp_path / "one" / "files.json")
    images[5, 3, 3] ^= 1
    fake_runtime(root, set(), (), images)
    second = site.build(root, tmp_path / "two" / "site", tmp_path / "two" / "files.json")
    before, after = ({f["path"]: f for f in b["files"]} for b in (first, second))
    changed = {p for p in before.keys() & after.keys() if before[p]["raw_sha256"] != after[p]["raw_sha256"]}
    assert "static/vendor/py/python_stdlib.zip" in changed        # the change was real
    for path in changed:
        assert before[path]["cache_control"] == after[path]["cache_control"] == mime.REVALIDATE, path
    renamed = sorted(before.keys() ^ after.keys())
    assert sorted(p.split("/")[-1].split("-")[0] for p in renamed) == ["numpy", "numpy", "train", "train"]
    for path in renamed:
        assert (before.get(path) or after.get(path))["cache_control"] == mime.IMMUTABLE, path


def test_a_name_that_claims_a_hash_its_bytes_do_not_have_fails_the_build(tmp_path):
    root = make_root(tmp_path / "repo")
    (root / "static/data/mnist/train-000-0123abcd.npz").write_bytes(b"not those bytes")
    with pytest.raises(site.SiteError, match="train-000-0123abcd.npz: its name says sha256 0123abcd"):
        site.build(root, tmp_path / "out" / "site", tmp_path / "out" / "files.json")
