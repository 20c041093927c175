"""The shell boots the vendored runtime offline, switches views, and explains a missing numpy."""
import tempfile

import pytest

from tests.conftest import ROOT
from tests.conftest import new_page
from tests.support import make_run
from tests.support.browser import NUMPY_MISSING
from tests.support.site import site_failing
from tools import vendor

pytestmark = pytest.mark.browser


def visible_views(page):
    return page.js("return [...document.querySelectorAll('.view')]"
                   ".filter(v => getComputedStyle(v).display !== 'none').map(v => v.id)")


@pytest.mark.needs_numpy
def test_page_boots_offline_and_the_worker_answers_with_numpy(page, site_server):
    page.open()
    page.wait_for("document.body.dataset.worker", what="the trainer worker's ping")
    assert page.js("return document.body.dataset.worker") == "ready"
    assert page.js("return document.body.dataset.workerNumpy") == "2.2.5"
    assert page.errors_text() == ""
    wheel = vendor.pyodide_lock()["packages"]["numpy"]["file_name"]
    assert any(wheel in path for path in site_server.requests), "numpy was not loaded from this site"
    assert page.foreign_requests() == []


def test_views_switch_by_link_and_by_url_hash(page):
    page.open("#digits", wait_ready=False)
    assert visible_views(page) == ["digits"]
    page.click("#nav-text")
    assert visible_views(page) == ["text"]
    assert page.js("return location.hash") == "#text"
    page.driver.back()       # the hashchange comes after back() returns, in WebKit
    page.wait_for("document.documentElement.dataset.view === 'digits'", what="the view before")
    assert visible_views(page) == ["digits"]
    page.open("", wait_ready=False)
    assert visible_views(page) == ["tictactoe"]


@pytest.fixture
def site_without_numpy():
    """The site as it is on a machine where `make setup` found no numpy wheel."""
    with site_failing(lambda path: path.endswith(".whl") and "numpy" in path) as server:
        yield server


def test_missing_numpy_is_explained_and_the_shell_stays_usable(browser, site_without_numpy):
    page = new_page(browser, site_without_numpy.url)
    for pattern in NUMPY_MISSING:
        page.expect_console(pattern)
    page.open("", wait_ready=False)
    page.wait_for("document.body.dataset.ready === 'error'", what="the numpy error")
    message = page.errors_text()
    wheel = vendor.pyodide_lock()["packages"]["numpy"]["file_name"]
    assert "numpy could not be loaded" in message
    assert wheel in message and "HTTP 404" in message and "make setup" in message
    page.click("#nav-digits")
    assert visible_views(page) == ["digits"]
    assert page.unexpected_console_errors() == []


@pytest.mark.needs_numpy
def test_a_first_visit_downloads_only_the_model_of_the_view_it_shows(page, site_server):
    site_server.requests.clear()
    page.open("#tictactoe")
    fetched = lambda: {path.rsplit("/", 1)[-1] for path in site_server.requests if "/knowledge/" in path}
    assert fetched() == {"tictactoe-hard.npz"}
    page.click("#nav-digits")
    page.wait_for("document.getElementById('digits').dataset.ready === 'true'", what="the digits view")
    assert fetched() == {"tictactoe-hard.npz", "digits.npz"}
    assert "shipped MLP" in page.text("#predictor-info")


@pytest.mark.needs_numpy
def test_the_make_run_server_serves_a_page_that_gets_ready(browser):
    import signal
    import subprocess
    log = tempfile.TemporaryFile(mode="w+")         # a hung server dumps its threads here
    server = make_run.start_server(stderr=log)
    try:
        url = server.stdout.readline().split()[4]
        page = new_page(browser, url)
        page.open()
        assert page.errors_text() == ""
        assert page.unexpected_console_errors() == []
    finally:
        browser.get("about:blank")       # the page's connections closed before the server stops
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.send_signal(signal.SIGABRT)      # faulthandler prints where each thread is
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
            log.seek(0)
            raise AssertionError("the make run server did not stop within 30 s of Ctrl-C; it printed:\n"
                                 + "".join(log.readlines()[-60:]))
        finally:
            log.close()
