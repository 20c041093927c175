"""Offline after one visit, and a new deploy seen whole: the built site (tools/site.py) served as
S3 serves it (tools/serve.py --built) on 127.0.0.1, a secure context where the service worker runs.

One visit online; then the server is stopped and a reload plays, predicts and trains from the
kept blocks; then a changed site is served at the same address, and visits see one version or
the other, whole, never a mix."""
import shutil

import pytest

from tests.conftest import ROOT, new_page
from tools import serve, site

pytestmark = [pytest.mark.browser, pytest.mark.needs_numpy, pytest.mark.timeout(900)]
SOURCES = ["index.html", "pyscript.toml", "manifest.webmanifest", "app", "models", "knowledge", "static"]
CHANGED = "static/css/falken.css"
MARKER = ':root { --falken-deploy: "second"; }\n'   # the one change of the second deploy
# What the engines log, offline, for the blocks this device never fetched (static/js/offline-worker.js
# answers them 503 Unavailable offline) and for the service worker's own update check.
OFFLINE_CONSOLE = [r"\.npz.*503|503.*\.npz|Unavailable offline", r"sw\.js"]


@pytest.fixture(scope="module")
def deploys(tmp_path_factory):
    """(first, second): two builds, the second with one changed file."""
    first_dir = tmp_path_factory.mktemp("first")
    first = site.build(ROOT, first_dir / "site", first_dir / "site-files.json")
    source = tmp_path_factory.mktemp("source")
    for name in SOURCES:
        copy = shutil.copytree if (ROOT / name).is_dir() else shutil.copy2
        copy(ROOT / name, source / name, **({"ignore": shutil.ignore_patterns("__pycache__")}
                                            if (ROOT / name).is_dir() else {}))
    (source / CHANGED).write_text((ROOT / CHANGED).read_text() + MARKER)
    second_dir = tmp_path_factory.mktemp("second")
    second = site.build(source, second_dir / "site", second_dir / "site-files.json")
    before, after = ({f["path"]: f["raw_sha256"] for f in build["files"]} for build in (first, second))
    changed = {path for path in after if after[path] != before.get(path)}
    assert changed == {CHANGED, "index.html", "sw.js"}     # the file, and the version's two carriers
    return (first_dir, first), (second_dir, second)


def serve_build(build, port=0):
    folder, listing = build
    return serve.start_in_thread(folder / "site", port=port, file_list=folder / "site-files.json")


def stop(server):
    server.shutdown()
    server.server_close()


def seen(page):
    """(version stamped on the page, whether its stylesheet is the second deploy's)."""
    return page.js("return [document.documentElement.dataset.siteVersion,"
                   " getComputedStyle(document.documentElement).getPropertyValue('--falken-deploy').trim()"
                   " === '\"second\"']")


def train(page, steps):
    start = int(page.js("return +document.getElementById('train-status').dataset.iteration"))
    page.click("#train-start")
    page.wait_for(f"+document.getElementById('train-status').dataset.iteration >= {start + steps}",
                  what=f"{steps} training steps")
    page.click("#train-pause")
    page.wait_for("document.getElementById('train-status').dataset.state === 'paused'", what="the pause")


def play_and_predict(page):
    page.click("#cell-4")
    assert page.js("return [...document.querySelectorAll('.cell')].filter(c => c.textContent).length") == 2
    page.click("#nav-digits")
    page.wait_for("!document.getElementById('train-start').disabled", what="the trainer")
    page.draw("#grid", [[(14, 4), (14.5, 14), (14, 24)]])
    page.wait_for("document.getElementById('prediction').dataset.digit === '1'", what="a prediction")


def test_offline_after_one_visit_then_a_new_deploy_is_seen_whole(browser, deploys):
    first, second = deploys
    server = serve_build(first)
    port, url = server.server_address[1], server.url
    try:
        # The one visit online: the page is kept once it is ready; training keeps the blocks it fetches.
        page = new_page(browser, url)
        page.open()
        page.wait_for("document.documentElement.dataset.offline === 'ready'", what="the site kept offline")
        assert seen(page) == [first[1]["version"], False]
        assert page.js("return !!navigator.serviceWorker.controller")
        play_and_predict(page)
        train(page, 20)
        assert page.errors_text() == "" and page.unexpected_console_errors() == []
    finally:
        stop(server)

    # The server is gone: a reload plays, predicts and trains from the kept blocks; blocks never
    # fetched are unavailable offline, not failures.
    page = new_page(browser, url)
    for pattern in OFFLINE_CONSOLE:
        page.expect_console(pattern)
    page.open()
    assert seen(page) == [first[1]["version"], False]
    play_and_predict(page)
    page.click("#train-start")
    page.wait_for("+document.getElementById('cache-offline').textContent > 0", what="a block unavailable offline")
    page.wait_for("+document.getElementById('train-status').dataset.iteration >= 200", what="training offline")
    page.click("#train-pause")
    assert page.text("#cache-failures") == "0"
    page.click("#nav-text")
    page.wait_for("document.getElementById('text-output').textContent.length > 50", what="written text")
    assert page.errors_text() == ""
    assert page.unexpected_console_errors() == []

    # A second deploy at the same address: the next visit is still the first version, whole, and
    # downloads the second; the visit after it is the second, whole.
    server = serve_build(second, port)
    try:
        page = new_page(browser, url)
        page.open()
        assert seen(page) == [first[1]["version"], False]
        page.wait_for("document.documentElement.dataset.offline === 'update-ready'", what="the new version kept")
        assert "next time you open Falken" in page.text("#offline-status")
        page = new_page(browser, url)           # about:blank first: no page of the first version is open
        page.open()
        page.wait_for("document.documentElement.dataset.offline === 'ready'", what="the new version in charge")
        assert seen(page) == [second[1]["version"], True]
        assert page.errors_text() == "" and page.unexpected_console_errors() == []
    finally:
        stop(server)
