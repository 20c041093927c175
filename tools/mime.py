"""How each site file is served: its Content-Type and Cache-Control.

One table for the dev server (tools/serve.py) and the S3 upload (tools/deploy.py), so
what is tested locally is what visitors get.
"""
import posixpath
import re

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".py": "text/x-python; charset=utf-8",
    ".toml": "application/toml; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".webmanifest": "application/manifest+json",
    ".wasm": "application/wasm",
    ".whl": "application/zip",
    ".zip": "application/zip",
    ".npz": "application/octet-stream",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
}

# Only a content-addressed file may be kept for a year: its name carries the first hex digits
# of the sha256 of its own bytes, so new bytes always arrive under a new name. Those are the
# MNIST blocks (`train-003-1a2b3c4d.npz`, models/blocks.py) and the trimmed numpy wheel, whose
# build tag is its hash (`numpy-2.2.5-0t46f1d1a406-….whl`, tools/vendor.py); the revalidated
# manifest and pyodide-lock.json name them. tools/site.py refuses a build where such a name
# does not match the bytes.
IMMUTABLE = "public, max-age=31536000, immutable"
# Everything else must be revalidated (a 304, no bytes, when unchanged) so that a deploy is
# seen whole: the page, our Python, the config, manifests, knowledge, and the vendored files
# whose names Pyodide and PyScript fix themselves (pyodide.asm.wasm, python_stdlib.zip, core.js…)
# or which the page names directly (uPlot, the pyodide-http wheel, hamlet.txt).
REVALIDATE = "no-cache"
# `-<hex>` or a wheel build tag `-0t<hex>`, then `-` or the extension.
CONTENT_HASH = re.compile(r"-(?:0t)?([0-9a-f]{8,64})(?=[-.])")


def content_type(path):
    return CONTENT_TYPES.get(posixpath.splitext(path)[1].lower(), "application/octet-stream")


def content_hash(path):
    """The sha256 prefix a content-addressed file name carries, or None."""
    found = CONTENT_HASH.search(posixpath.basename(path))
    return found.group(1) if found else None


def cache_control(path):
    """Cache-Control for a site-relative path such as 'static/vendor/pyodide/pyodide.mjs'."""
    return IMMUTABLE if content_hash(path) else REVALIDATE
