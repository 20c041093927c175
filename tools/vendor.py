"""Bring the pinned browser runtime into static/vendor/ (run by `make setup`).

PyScript and Pyodide come from npm tarballs, pyodide-http from PyPI, and numpy for
Pyodide from a local wheel cache or the Pyodide CDN. Every file is checked against the
hash its registry publishes before it is used; a stamp file makes re-runs instant.
Pyodide's standard library and the numpy wheel are then trimmed (tools/trim.py) and the
vendored pyodide-lock.json records the trimmed wheel's sha256, which the page checks.

    python -m tools.vendor            vendor everything (idempotent)
    python -m tools.vendor --status   say whether the Pyodide numpy wheel is in place
"""
import base64
import fnmatch
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import urllib.request
from pathlib import Path

from tools import trim

ROOT = Path(__file__).resolve().parent.parent
LOCK = json.loads((ROOT / "tools" / "vendor.lock.json").read_text())
DOWNLOADS = ROOT / "build" / "downloads"
STAMP = ".vendored.json"
USER_WHEELS = Path.home() / ".cache" / "falken" / "wheels"


class VendorError(Exception):
    pass


def say(message):
    print(f"vendor: {message}", flush=True)


def file_digest(path, algorithm):
    digest = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest


def check_integrity(path, integrity):
    """Check an npm `dist.integrity` string (e.g. 'sha512-<base64>')."""
    algorithm, _, expected = integrity.partition("-")
    actual = base64.b64encode(file_digest(path, algorithm).digest()).decode()
    if actual != expected:
        raise VendorError(f"{path.name}: integrity mismatch ({algorithm} {actual} != {expected})")


def check_sha256(path, expected):
    actual = file_digest(path, "sha256").hexdigest()
    if actual != expected:
        raise VendorError(f"{path.name}: sha256 {actual} does not match the pinned {expected}")


def stamped(dest, spec):
    stamp = dest / STAMP
    return stamp.exists() and json.loads(stamp.read_text()) == spec


def write_stamp(dest, spec):
    (dest / STAMP).write_text(json.dumps(spec, sort_keys=True))


def npm_tarball(key, section="npm"):
    """The verified tarball of npm package `key` from the lock's `section`, packed once into build/."""
    spec = LOCK[section][key]
    DOWNLOADS.mkdir(parents=True, exist_ok=True)
    name = spec["package"].lstrip("@").replace("/", "-") + f"-{spec['version']}.tgz"
    tarball = DOWNLOADS / name
    if not tarball.exists():
        say(f"npm pack {spec['package']}@{spec['version']}")
        subprocess.run(
            ["npm", "pack", f"{spec['package']}@{spec['version']}", "--pack-destination", str(DOWNLOADS),
             "--silent"],
            check=True, stdout=subprocess.DEVNULL)
    try:
        check_integrity(tarball, spec["integrity"])
    except VendorError:
        tarball.unlink()
        raise
    return tarball


def vendor_npm(key, section="npm"):
    """Unpack npm package `key` of the lock's `section` ("bench_npm": bench/peers.py's) to its dest."""
    spec = LOCK[section][key]
    dest = ROOT / spec["dest"]
    if stamped(dest, spec):
        return
    tarball = npm_tarball(key, section)
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    with tarfile.open(tarball) as tar:
        for member in tar.getmembers():
            if not member.isfile() or not member.name.startswith(spec["from"]):
                continue
            relative = member.name[len(spec["from"]):]
            if "/" in relative or ".." in relative:
                continue
            if not any(fnmatch.fnmatch(relative, p) for p in spec["include"]):
                continue
            if any(fnmatch.fnmatch(relative, p) for p in spec["exclude"]):
                continue
            (dest / relative).write_bytes(tar.extractfile(member).read())
    if key == "pyodide":
        stdlib = dest / "python_stdlib.zip"
        stdlib.write_bytes(trim.trim_stdlib(stdlib.read_bytes()))
    write_stamp(dest, spec)
    say(f"{spec['package']}@{spec['version']} -> {spec['dest']}")


def vendor_pypi(key):
    spec = LOCK["pypi"][key]
    dest = ROOT / spec["dest"]
    target = dest / spec["file"]
    if target.exists() and file_digest(target, "sha256").hexdigest() == spec["sha256"]:
        return
    DOWNLOADS.mkdir(parents=True, exist_ok=True)
    cached = DOWNLOADS / spec["file"]
    if not cached.exists():
        say(f"pip download {key}=={spec['version']}")
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
             "-d", str(DOWNLOADS), f"{key}=={spec['version']}"],
            check=True)
    check_sha256(cached, spec["sha256"])
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(cached, target)
    say(f"{key} {spec['version']} -> {spec['dest']}")


def pyodide_lock():
    """The vendored lockfile: upstream's, with trimmed wheels' hashes (what the page checks)."""
    return json.loads(lock_path().read_text())


def lock_path():
    return ROOT / LOCK["npm"]["pyodide"]["dest"] / "pyodide-lock.json"


def upstream_lock():
    """pyodide-lock.json exactly as the npm package ships it: the reference for downloads."""
    with tarfile.open(npm_tarball("pyodide")) as tar:
        return json.load(tar.extractfile("package/pyodide-lock.json"))


def wheel_search_dirs():
    dirs = [Path(p) for p in os.environ.get("FALKEN_WHEELS", "").split(os.pathsep) if p]
    return dirs + [USER_WHEELS]


def pyodide_package_status(name):
    """(path or None, reason): whether Pyodide package `name` is vendored and matches the lock."""
    entry = pyodide_lock()["packages"][name]
    target = ROOT / LOCK["pyodide_packages"]["dest"] / entry["file_name"]
    if target.exists() and file_digest(target, "sha256").hexdigest() == entry["sha256"]:
        return target, "present"
    looked = ", ".join(str(d) for d in wheel_search_dirs())
    return None, (f"{entry['file_name']} is not in static/vendor/pyodide/ (looked in {looked} and the "
                  f"Pyodide CDN); put it in {USER_WHEELS} and run `make setup`")


def find_upstream_wheel(file_name, sha256):
    """The wheel's bytes from $FALKEN_WHEELS, the user cache or the CDN (cached), checked; or None."""
    for folder in wheel_search_dirs():
        candidate = folder / file_name
        if candidate.exists():
            try:
                check_sha256(candidate, sha256)
            except VendorError as error:
                say(f"ignoring {candidate}: {error}")
                continue
            say(f"{file_name} from {folder}")
            return candidate.read_bytes()
    url = LOCK["pyodide_packages"]["cdn"] + file_name
    try:
        with urllib.request.urlopen(url, timeout=20) as response:
            data = response.read()
    except OSError as error:
        say(f"{file_name} not found in {', '.join(map(str, wheel_search_dirs()))} and the CDN is "
            f"unreachable ({error.__class__.__name__}); numpy will be missing in the browser. "
            f"Put the wheel in {USER_WHEELS} and run `make setup` again.")
        return None
    if hashlib.sha256(data).hexdigest() != sha256:
        raise VendorError(f"{url}: sha256 does not match pyodide-lock.json")
    USER_WHEELS.mkdir(parents=True, exist_ok=True)
    (USER_WHEELS / file_name).write_bytes(data)
    say(f"{file_name} downloaded from the Pyodide CDN and cached in {USER_WHEELS}")
    return data


def content_addressed_wheel_name(upstream_file_name, data):
    """`numpy-2.2.5-cp313-….whl` -> `numpy-2.2.5-0t<sha256[:10]>-cp313-….whl`: the build tag (which
    must start with a digit) is the wheel's own hash, so it may be cached as immutable."""
    distribution, version, tags = upstream_file_name.split("-", 2)
    return f"{distribution}-{version}-0t{hashlib.sha256(data).hexdigest()[:10]}-{tags}"


def vendor_pyodide_package(name):
    """Place Pyodide's wheel for `name`, trimmed, beside pyodide.mjs and point the vendored
    lockfile at it; returns False (and says why) if the wheel cannot be found.

    The trimmed wheel's name carries a build tag made from its sha256 (`numpy-2.2.5-0t1a2b3c4d-…`),
    so the immutable-cached file and the revalidated lockfile can never disagree after a deploy
    that trims differently."""
    if pyodide_package_status(name)[0] is not None:
        return True
    upstream = upstream_lock()["packages"][name]
    data = find_upstream_wheel(upstream["file_name"], upstream["sha256"])
    if data is None:
        return False
    trimmed = trim.trim_numpy_wheel(data) if name == "numpy" else data
    sha256 = hashlib.sha256(trimmed).hexdigest()
    file_name = content_addressed_wheel_name(upstream["file_name"], trimmed)
    distribution = file_name.split("-", 1)[0]
    folder = ROOT / LOCK["pyodide_packages"]["dest"]
    for stale in folder.glob(f"{distribution}-*.whl"):
        stale.unlink()
    (folder / file_name).write_bytes(trimmed)
    lock = pyodide_lock()
    lock["packages"][name].update(file_name=file_name, sha256=sha256)
    lock_path().write_text(json.dumps(lock, separators=(",", ":")))
    say(f"{name}: {len(data) / 1e6:.2f} MB wheel trimmed to {file_name} ({len(trimmed) / 1e6:.2f} MB stored, "
        f"gzip on the wire)")
    return True


def main(argv):
    if "--status" in argv:
        path, reason = pyodide_package_status("numpy")
        print(path or reason)
        return 0 if path else 1
    try:
        for key in LOCK["npm"]:
            vendor_npm(key)
        for key in LOCK["pypi"]:
            vendor_pypi(key)
        for name in LOCK["pyodide_packages"]["names"]:
            vendor_pyodide_package(name)
    except (VendorError, subprocess.CalledProcessError) as error:
        print(f"vendor: failed: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
