"""Shared fixtures: the site served locally, one browser per engine per session, a fresh page per test."""
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support import engines, site  # noqa: E402
from tests.support.browser import NUMPY_MISSING, Page  # noqa: E402
from tools import vendor  # noqa: E402


def numpy_wheel_reason():
    """None when the Pyodide numpy wheel is vendored, else the one-line reason tests skip."""
    path, reason = vendor.pyodide_package_status("numpy")
    return None if path else f"no numpy for Pyodide: {reason}"


def pytest_collection_modifyitems(config, items):
    reason = numpy_wheel_reason()
    if reason is None:
        return
    for item in items:
        if "needs_numpy" in item.keywords:
            item.add_marker(pytest.mark.skip(reason=reason))


def pytest_configure(config):
    config.addinivalue_line("markers", "needs_numpy: a real-browser test that needs numpy inside Pyodide")
    config.addinivalue_line("markers", "browser: a test that drives a real browser (every engine)")


@pytest.fixture(scope="session")
def site_server():
    server = site.start(ROOT)
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session", params=engines.ENGINES)
def browser(request):
    """One browser per engine for the whole session: every browser test runs in each
    (`pytest -k firefox` selects one); an engine that is not installed skips with the reason."""
    reason = engines.missing(request.param)
    if reason:
        pytest.skip(reason)
    driver = engines.start(request.param)
    yield driver
    driver.quit()


def new_page(driver, url):
    """A page on `url` in `driver`, its logs cleared, numpy's absence declared where it is absent."""
    driver.get("about:blank")
    test_page = Page(driver, url)
    if numpy_wheel_reason() is not None:      # the page explains it; tests without numpy go on
        for pattern in NUMPY_MISSING:
            test_page.expect_console(pattern)
    test_page.clear_logs()
    return test_page


@pytest.fixture
def page(browser, site_server):
    """A page on the local site; the test fails on console errors it did not declare."""
    test_page = new_page(browser, site_server.url)
    yield test_page
    unexpected = test_page.unexpected_console_errors()
    assert not unexpected, f"unexpected console errors: {unexpected}"
