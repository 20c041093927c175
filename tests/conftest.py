"""Shared fixtures: the site served locally, one headless Chromium per session, a fresh page per test."""
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.browser import NUMPY_MISSING, Page, start_chromium  # noqa: E402
from tools import serve, vendor  # noqa: E402


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
    config.addinivalue_line("markers", "browser: a test that drives headless Chromium")


@pytest.fixture(scope="session")
def site_server():
    server = serve.start_in_thread(ROOT)
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def chromium():
    driver = start_chromium()
    yield driver
    driver.quit()
    shutil.rmtree(driver.profile_dir, ignore_errors=True)


@pytest.fixture
def page(chromium, site_server):
    """A page on the local site; the test fails on console errors it did not declare."""
    chromium.get("about:blank")
    test_page = Page(chromium, site_server.url)
    if numpy_wheel_reason() is not None:      # the page explains it; tests without numpy go on
        for pattern in NUMPY_MISSING:
            test_page.expect_console(pattern)
    test_page.drain_logs()
    test_page.console.clear()
    test_page.requests.clear()
    yield test_page
    unexpected = test_page.unexpected_console_errors()
    assert not unexpected, f"unexpected console errors: {unexpected}"
