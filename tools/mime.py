"""How each site file is served: its Content-Type and Cache-Control.

One table for the dev server (tools/serve.py) and the S3 upload (tools/deploy.py), so
what is tested locally is what visitors get.
"""
import posixpath

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
    ".wasm": "application/wasm",
    ".whl": "application/zip",
    ".zip": "application/zip",
    ".npz": "application/octet-stream",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
}

# Vendored runtime files are pinned by version and data blocks are content-addressed:
# they never change under the same name, so browsers may keep them for a year.
IMMUTABLE = "public, max-age=31536000, immutable"
# Everything else (the page, our Python, the config, manifests, knowledge) must be
# revalidated so a deploy is seen at once.
REVALIDATE = "no-cache"


def content_type(path):
    return CONTENT_TYPES.get(posixpath.splitext(path)[1].lower(), "application/octet-stream")


def cache_control(path):
    """Cache-Control for a site-relative path such as 'static/vendor/pyodide/pyodide.mjs'."""
    path = path.lstrip("/")
    # Manifests and Pyodide's lockfile name the immutable files: they must always be current.
    if posixpath.basename(path) in ("manifest.json", "pyodide-lock.json"):
        return REVALIDATE
    if path.startswith(("static/vendor/", "static/data/")):
        return IMMUTABLE
    return REVALIDATE
