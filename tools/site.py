"""Build build/site/: exactly the files the page needs, gzip-encoded where it pays (`make site`).

What goes in: every file the page references (index.html's src/href/config attributes, and
each PyScript config's `interpreter` and [files] — which hold every module the browser imports;
a missing one fails the build), the trainer worker's entry point (app/main.py starts it), plus
what the Python code fetches at run time: static/ (css, vendor, data) and knowledge/*.npz.
Never tests/, the dev-kit CLIs, the Makefile, tools/ or dotfiles.

Each file is stored once under its own path; when gzip saves at least GZIP_MIN_SAVING of a
file whose type is worth trying, the stored bytes are the gzip stream (fixed mtime, so builds
are byte-identical) and the file list says Content-Encoding: gzip. build/site-files.json
lists every file with its headers and sha256s; tools/deploy.py uploads from it. A file whose
name claims a content hash (tools/mime.py: those are cached as immutable) must hash to it.

Offline after one visit: the build gets a version (a hash of every file it ships), stamped on
index.html's <html data-site-version>, and a service worker at its root, sw.js, holding that
version and the files its static/js/offline-worker.js keeps for it (every file but the data
blocks, kept as they are fetched). A new deploy changes sw.js, which the browser installs whole.
Only the built site has them: the page `make run` serves registers no service worker.
"""
import fnmatch
import gzip
import hashlib
import html.parser
import json
import re
import shutil
import sys
import tomllib
import urllib.parse
from pathlib import Path

from tools.mime import cache_control, content_hash, content_type

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "build" / "site"
FILE_LIST = ROOT / "build" / "site-files.json"
PAGE = "index.html"
WORKER_ENTRY = "app/trainer.py"   # started by app/main.py with create_named_worker
RUNTIME_TREES = ["static/**/*", "knowledge/*.npz", WORKER_ENTRY]
EXCLUDED = ["tests/*", "*/__pycache__/*", "*.pyc", "*/.*", ".*", "static/data/*.building/*",
            "static/data/*.old/*"]
# Types worth gzip-trying. Zips and wheels count: tools/trim.py stores Pyodide's stdlib and the
# numpy wheel uncompressed so that gzip works across their members (a deflated zip gains < 10%
# and is left as it is).
GZIP_SUFFIXES = {".wasm", ".js", ".mjs", ".json", ".css", ".npz", ".html", ".py", ".toml",
                 ".svg", ".txt", ".map", ".zip", ".whl"}
GZIP_MIN_SAVING = 0.10
GZIP_LEVEL = 9
SERVICE_WORKER = "sw.js"             # at the root, so that its scope is the whole site
OFFLINE_WORKER = "static/js/offline-worker.js"
DATA_BLOCKS = "static/data/mnist/"   # content-addressed blocks: kept as fetched, not precached
VERSION_DIGITS = 16


class SiteError(Exception):
    pass


class _References(html.parser.HTMLParser):
    """Local URLs in src/href/config attributes of a page."""

    def __init__(self):
        super().__init__()
        self.urls = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("src", "href", "config") and value:
                self.urls.append(value)


def local_path(url, base="."):
    """Site-relative path of a page URL, or None for anchors and other sites."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme or parts.netloc or not parts.path or url.startswith("#"):
        return None
    path = urllib.parse.unquote(parts.path)
    joined = Path(base, path).as_posix() if not path.startswith("/") else path.lstrip("/")
    normalised = Path(joined).as_posix()
    parts_out = []
    for piece in normalised.split("/"):
        if piece in ("", "."):
            continue
        if piece == "..":
            if not parts_out:
                raise SiteError(f"{url} points outside the site")
            parts_out.pop()
        else:
            parts_out.append(piece)
    return "/".join(parts_out)


def config_references(config_path, root):
    """Files a PyScript TOML config makes the browser fetch."""
    try:
        config = tomllib.loads((root / config_path).read_text())
    except tomllib.TOMLDecodeError as error:
        raise SiteError(f"{config_path}: {error}") from None
    base = str(Path(config_path).parent)
    urls = list(config.get("files", {})) + [config.get("interpreter", "")]
    return {p for url in urls if url and "{" not in url and (p := local_path(url, base))}


def page_references(root):
    """Every local file index.html and its PyScript configs reference."""
    parser = _References()
    parser.feed((root / PAGE).read_text())
    referenced = {PAGE}
    for url in parser.urls:
        path = local_path(url)
        if path:
            referenced.add(path)
    for path in [p for p in referenced if p.endswith(".toml")]:
        referenced |= config_references(path, root)
    missing = sorted(p for p in referenced if not (root / p).is_file())
    if missing:
        raise SiteError(f"the page references files that do not exist: {', '.join(missing)}")
    return referenced


def runtime_files(root):
    found = set()
    for pattern in RUNTIME_TREES:
        for path in root.glob(pattern):
            if path.is_file():
                found.add(path.relative_to(root).as_posix())
    return found


def excluded(path):
    return any(fnmatch.fnmatch(path, pattern) for pattern in EXCLUDED)


def site_files(root=ROOT):
    """Sorted site-relative paths of everything the site ships."""
    return sorted(p for p in page_references(root) | runtime_files(root) if not excluded(p))


def site_version(raw_shas):
    """The build's version: a hash of every file's path and sha256, so any change makes a new one."""
    listing = "".join(f"{path}\0{sha}\n" for path, sha in sorted(raw_shas.items()))
    return hashlib.sha256(listing.encode()).hexdigest()[:VERSION_DIGITS]


def offline_files(raw_shas, page):
    """(version, {path: bytes} the build writes itself: index.html stamped with the version, and sw.js)."""
    if OFFLINE_WORKER not in raw_shas:
        raise SiteError(f"{OFFLINE_WORKER} (the service worker's code) is not among the site's files")
    version = site_version(raw_shas)
    stamped, found = re.subn(rb"<html\b", f'<html data-site-version="{version}"'.encode(), page, count=1)
    if not found:
        raise SiteError(f"{PAGE} has no <html> tag to carry the site's version")
    shas = dict(raw_shas, **{PAGE: hashlib.sha256(stamped).hexdigest()})
    kept = [[path, sha] for path, sha in sorted(shas.items())
            if not (path.startswith(DATA_BLOCKS) and content_hash(path))]
    worker = (f"// Written by tools/site.py for this build: its version and the files {OFFLINE_WORKER} keeps.\n"
              f"self.falkenSite = {json.dumps({'version': version, 'files': kept})};\n"
              f"importScripts({json.dumps('./' + OFFLINE_WORKER)});\n")
    return version, {PAGE: stamped, SERVICE_WORKER: worker.encode()}


def encode(path, raw):
    """(stored bytes, Content-Encoding or None): gzip when it saves enough."""
    if Path(path).suffix.lower() in GZIP_SUFFIXES:
        packed = gzip.compress(raw, compresslevel=GZIP_LEVEL, mtime=0)
        if len(packed) <= len(raw) * (1 - GZIP_MIN_SAVING):
            return packed, "gzip"
    return raw, None


def build(root=ROOT, out=OUT, file_list=FILE_LIST):
    """Write the site and its file list; returns the file list (a dict)."""
    previous = {}
    if file_list.exists():  # reuse gzip output of unchanged files: the wasm takes a second
        previous = {f["path"]: f for f in json.loads(file_list.read_text())["files"]}
    staging = out.with_name(out.name + ".building")
    shutil.rmtree(staging, ignore_errors=True)
    entries = []
    paths = site_files(root)
    version, generated = offline_files({path: hashlib.sha256((root / path).read_bytes()).hexdigest() for path in paths},
                              (root / PAGE).read_bytes())
    for path in sorted(paths + [SERVICE_WORKER]):
        raw = generated[path] if path in generated else (root / path).read_bytes()
        raw_sha = hashlib.sha256(raw).hexdigest()
        claimed = content_hash(path)
        if claimed and not raw_sha.startswith(claimed):  # it would be cached for a year as is
            raise SiteError(f"{path}: its name says sha256 {claimed}…, its bytes hash to {raw_sha[:len(claimed)]}…; "
                            f"rebuild it (`make setup`, `make data`) or rename it")
        old = previous.get(path)
        # Reuse last build's bytes for an unchanged file, unless the gzip rules may now decide otherwise.
        reusable = old and (old["content_encoding"] == "gzip" or Path(path).suffix.lower() not in GZIP_SUFFIXES)
        if reusable and old["raw_sha256"] == raw_sha and (out / path).is_file():
            stored, encoding = (out / path).read_bytes(), old["content_encoding"]
            if hashlib.sha256(stored).hexdigest() != old["sha256"]:
                stored, encoding = encode(path, raw)
        else:
            stored, encoding = encode(path, raw)
        target = staging / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(stored)
        entries.append({
            "path": path, "bytes": len(stored), "sha256": hashlib.sha256(stored).hexdigest(),
            "raw_bytes": len(raw), "raw_sha256": raw_sha, "content_type": content_type(path),
            "content_encoding": encoding, "cache_control": cache_control(path),
        })
    shutil.rmtree(out, ignore_errors=True)
    staging.rename(out)
    listing = {"version": version, "files": entries, "count": len(entries), "bytes": sum(e["bytes"] for e in entries),
               "raw_bytes": sum(e["raw_bytes"] for e in entries)}
    file_list.write_text(json.dumps(listing, indent=1) + "\n")
    return listing


def main(argv=None):
    try:
        listing = build()
    except SiteError as error:
        print(f"site: {error}", file=sys.stderr)
        return 1
    gzipped = sum(1 for f in listing["files"] if f["content_encoding"])
    print(f"site: {listing['count']} files ({gzipped} gzip-encoded), "
          f"{listing['bytes'] / 1e6:.2f} MB stored, {listing['raw_bytes'] / 1e6:.2f} MB raw "
          f"-> {OUT.relative_to(ROOT)}/, list in {FILE_LIST.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
