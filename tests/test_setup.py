"""`make setup`'s vendoring refuses bad downloads and finds the wheel where the README says;
the dev server sends the types and caching S3 will."""
import hashlib
import io
import json
import signal
import subprocess
import urllib.request
import zipfile

import pytest

from tests.conftest import ROOT
from tests.support import make_run
from tools import mime, trim, vendor


def test_npm_integrity_mismatch_is_refused(tmp_path):
    tarball = tmp_path / "x.tgz"
    tarball.write_bytes(b"not the package")
    with pytest.raises(vendor.VendorError, match="integrity mismatch"):
        vendor.check_integrity(tarball, vendor.LOCK["npm"]["pyodide"]["integrity"])


def test_vendored_runtime_matches_the_lock():
    for key in ("pyscript", "pyodide"):
        spec = vendor.LOCK["npm"][key]
        dest = ROOT / spec["dest"]
        assert json.loads((dest / vendor.STAMP).read_text()) == spec
    assert (ROOT / "static/vendor/pyodide/pyodide.asm.wasm").stat().st_size > 1_000_000
    assert not list((ROOT / "static/vendor/pyscript").glob("*.map"))
    wheel = ROOT / "static/vendor/wheels" / vendor.LOCK["pypi"]["pyodide-http"]["file"]
    assert hashlib.sha256(wheel.read_bytes()).hexdigest() == vendor.LOCK["pypi"]["pyodide-http"]["sha256"]


@pytest.fixture
def fake_pyodide_dir(tmp_path, monkeypatch):
    """A vendor folder with a lockfile naming a tiny 'numpy' wheel, so lookups can be tested."""
    wheel = io.BytesIO()
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("numpy/__init__.py", "x = 1\n" * 100)
        archive.writestr("numpy/__init__.pyi", "x: int\n")
        archive.writestr("numpy/f2py/__init__.py", "")
    payload = wheel.getvalue()
    lock = {"packages": {"numpy": {"file_name": "numpy-1.0-py3-none-any.whl", "sha256": hashlib.sha256(payload).hexdigest()}}}
    pyodide_dir = tmp_path / "vendor"
    pyodide_dir.mkdir()
    (pyodide_dir / "pyodide-lock.json").write_text(json.dumps(lock))
    monkeypatch.setattr(vendor, "upstream_lock", lambda: lock)
    monkeypatch.setattr(vendor, "ROOT", tmp_path)
    monkeypatch.setitem(vendor.LOCK["npm"]["pyodide"], "dest", "vendor")
    monkeypatch.setitem(vendor.LOCK["pyodide_packages"], "dest", "vendor")
    monkeypatch.setitem(vendor.LOCK["pyodide_packages"], "cdn", "http://127.0.0.1:9/")  # nothing listens
    monkeypatch.setattr(vendor, "USER_WHEELS", tmp_path / "user-cache")
    return pyodide_dir, payload


def test_wheel_is_taken_from_falken_wheels_and_checked(fake_pyodide_dir, tmp_path, monkeypatch):
    pyodide_dir, payload = fake_pyodide_dir
    wrong, right = tmp_path / "wrong", tmp_path / "right"
    wrong.mkdir(), right.mkdir()
    (wrong / "numpy-1.0-py3-none-any.whl").write_bytes(b"tampered")
    (right / "numpy-1.0-py3-none-any.whl").write_bytes(payload)
    monkeypatch.setenv("FALKEN_WHEELS", f"{wrong}:{right}")
    assert vendor.vendor_pyodide_package("numpy") is True
    # What is vendored is the trimmed wheel, and the vendored lockfile vouches for exactly it.
    entry = vendor.pyodide_lock()["packages"]["numpy"]
    vendored = (pyodide_dir / entry["file_name"]).read_bytes()
    assert zipfile.ZipFile(io.BytesIO(vendored)).namelist() == ["numpy/__init__.py"]
    assert entry["sha256"] == hashlib.sha256(vendored).hexdigest()
    assert entry["file_name"] == f"numpy-1.0-0t{entry['sha256'][:10]}-py3-none-any.whl"   # content-addressed
    assert [p.name for p in pyodide_dir.glob("*.whl")] == [entry["file_name"]]
    assert vendor.pyodide_package_status("numpy")[0] is not None


def test_missing_wheel_is_reported_in_one_line_and_setup_carries_on(fake_pyodide_dir, monkeypatch, capsys):
    monkeypatch.delenv("FALKEN_WHEELS", raising=False)
    assert vendor.vendor_pyodide_package("numpy") is False
    out = capsys.readouterr().out.strip()
    assert len(out.splitlines()) == 1 and "numpy-1.0-py3-none-any.whl not found" in out
    path, reason = vendor.pyodide_package_status("numpy")
    assert path is None and "make setup" in reason


@pytest.mark.parametrize("path, content_type, cache", [
    ("index.html", "text/html", "no-cache"),
    ("pyscript.toml", "application/toml", "no-cache"),
    ("app/main.py", "text/x-python", "no-cache"),
    ("static/vendor/pyodide/pyodide.asm.wasm", "application/wasm", "no-cache"),  # a fixed name
    ("static/vendor/pyodide/pyodide.mjs", "text/javascript", "no-cache"),
    ("static/vendor/pyodide/pyodide-lock.json", "application/json", "no-cache"),
    ("static/vendor/wheels/" + vendor.LOCK["pypi"]["pyodide-http"]["file"], "application/zip", "no-cache"),
    ("static/data/mnist/manifest.json", "application/json", "no-cache"),
])
def test_dev_server_sends_explicit_types_and_caching(site_server, path, content_type, cache):
    with urllib.request.urlopen(site_server.url + path) as response:
        assert response.headers["Content-Type"].startswith(content_type)
        assert cache in response.headers["Cache-Control"]
    assert mime.content_type(path).startswith(content_type)


def test_dev_server_lets_content_addressed_files_be_kept(site_server):
    manifest = json.loads((ROOT / "static/data/mnist/manifest.json").read_text())
    with urllib.request.urlopen(site_server.url + "static/data/mnist/" + manifest["blocks"][0]["file"]) as response:
        assert response.headers["Cache-Control"] == mime.IMMUTABLE


def test_make_run_server_prints_its_url_and_stops_cleanly_on_ctrl_c():
    process = make_run.start_server()
    try:
        line = process.stdout.readline()
        assert line.startswith("Falken is served at http://127.0.0.1:")
        url = line.split()[4]
        with urllib.request.urlopen(url) as response:
            assert b"Falken" in response.read()
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
        assert "Traceback" not in process.stderr.read()
    finally:
        process.kill()


def test_trimmed_runtime_keeps_what_the_app_imports_and_drops_the_rest():
    stdlib = zipfile.ZipFile(ROOT / "static/vendor/pyodide/python_stdlib.zip").namelist()
    for needed in ("asyncio/__init__.py", "json/__init__.py", "zipfile/__init__.py", "email/parser.py",
                   "http/client.py", "urllib/request.py", "encodings/utf_8.py", "encodings/cp437.py"):
        assert needed in stdlib
    assert not any(name.startswith(("unittest/", "_pyrepl/", "encodings/big5", "xml/")) for name in stdlib)
    wheel = ROOT / "static/vendor/pyodide" / vendor.pyodide_lock()["packages"]["numpy"]["file_name"]
    if wheel.exists():
        names = zipfile.ZipFile(wheel).namelist()
        assert "numpy/random/__init__.py" in names and "numpy/linalg/__init__.py" in names
        assert not any(trim.numpy_keeps(name) is False for name in names)
        assert all(info.compress_type == zipfile.ZIP_STORED for info in zipfile.ZipFile(wheel).infolist())


def test_an_engine_that_cannot_be_installed_costs_one_line_and_setup_goes_on(tmp_path):
    """Without apt-get (or root), each missing engine gets one line, written where its tests read
    their skip reason; the script still succeeds so the other engines' tests run."""
    import shutil
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("mkdir", "rm", "id", "cat"):
        (bin_dir / tool).symlink_to(shutil.which(tool))
    script = ROOT / "tools" / "ensure_browsers.sh"
    r = subprocess.run(["/bin/sh", str(script)], cwd=tmp_path, env={"PATH": str(bin_dir)},
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 3 and all("its tests will be skipped" in line for line in lines), lines
    for engine in ("chromium", "firefox", "webkit"):
        said = (tmp_path / "build" / "engines" / f"{engine}.missing").read_text().strip()
        assert said.startswith(f"setup: {engine} is not installed") and "apt-get install" in said
