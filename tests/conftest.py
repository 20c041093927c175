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
    for item in items:
        if reason is not None and "needs_numpy" in item.keywords:
            item.add_marker(pytest.mark.skip(reason=reason))
        if getattr(item, "callspec", None) and item.callspec.params.get("engine") == "webkit":
            item.add_marker(pytest.mark.flaky(reruns=1, condition=webkit_failed_on_its_own))


RUNNING = {}        # engine name -> its Engine, while its tests run


def webkit_failed_on_its_own(error):
    """A WebKit test is run again only when the engine failed by itself (engines.py says how)."""
    holder = RUNNING.get("webkit")
    return holder is not None and engines.engine_failed_on_its_own(error, holder.driver)


def pytest_configure(config):
    config.addinivalue_line("markers", "needs_numpy: a real-browser test that needs numpy inside Pyodide")
    config.addinivalue_line("markers", "browser: a test that drives a real browser (every engine)")


@pytest.fixture(scope="session")
def site_server():
    server = site.start(ROOT)
    yield server
    server.shutdown()
    server.server_close()


class Engine:
    """One engine's browser for the session, started again where the engine needs it."""
    # WebKitGTK's MiniBrowser stops booting Pyodide pages after a few in one session (seen: the
    # third boot in a row never got ready, with no error), so WebKit gets a fresh browser per test.
    FRESH_PER_TEST = {"webkit"}

    def __init__(self, name):
        self.name, self.driver = name, None

    def get(self):
        if self.driver is not None and self.name in self.FRESH_PER_TEST:
            self.quit()
        if self.driver is None:
            self.driver = engines.start(self.name)
        return self.driver

    def quit(self):
        if self.driver is not None:
            self.driver.quit()
            self.driver = None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed browser test carries what its engine printed (a crashed page says why there)."""
    outcome = yield
    report = outcome.get_result()
    holder = item.funcargs.get("engine") if hasattr(item, "funcargs") else None
    if report.failed and isinstance(holder, Engine) and holder.driver is not None:
        printed = engines.engine_log(holder.driver)
        if printed:
            report.sections.append((f"what {holder.name} printed", printed))


@pytest.fixture(scope="session", params=engines.ENGINES)
def engine(request):
    """Every browser test runs in each engine (`pytest -k firefox` selects one); an engine that
    is not installed skips with the reason `make setup` gave."""
    reason = engines.missing(request.param)
    if reason:
        pytest.skip(reason)
    holder = RUNNING[request.param] = Engine(request.param)
    yield holder
    holder.quit()
    del RUNNING[request.param]


@pytest.fixture
def browser(engine):
    return engine.get()


def new_page(driver, url):
    """A page on `url` in `driver`, its logs cleared, numpy's absence declared where it is absent."""
    driver.get("about:blank")
    test_page = Page(driver, url)
    if numpy_wheel_reason() is not None:      # the page explains it; tests without numpy go on
        for pattern in NUMPY_MISSING:
            test_page.expect_console(pattern)
    test_page.clear_logs()
    return test_page


# Saved state (IndexedDB) outlives the page: one test's training checkpoint or level must not
# greet the next test on the same site. Deleted from a plain document of the site's origin, so no
# page of Falken holds the database open (or writes a checkpoint after the deletion).
FORGET_SAVED_STATE = """
const done = arguments[arguments.length - 1];
const request = indexedDB.deleteDatabase("falken");
request.onsuccess = request.onerror = request.onblocked = () => done(true);
"""


def forget_saved_state(driver, site_url):
    driver.get(site_url + "static/js/store.js")
    driver.execute_async_script(FORGET_SAVED_STATE)


@pytest.fixture
def page(browser, site_server):
    """A page on the local site; the test fails on console errors it did not declare."""
    test_page = new_page(browser, site_server.url)
    yield test_page
    unexpected = test_page.unexpected_console_errors()
    forget_saved_state(browser, site_server.url)
    assert not unexpected, f"unexpected console errors: {unexpected}"
