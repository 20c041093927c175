"""Headless Chromium driven by selenium, with the console and the network kept for assertions."""
import json
import re
import shutil
import tempfile
import time
from urllib.parse import urlsplit

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service

# The flags this machine's Chromium needs (DEVELOPERS.md); background networking off so the
# browser itself never tries to reach the internet.
CHROMIUM_FLAGS = (
    "--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage --disable-quic "
    "--no-first-run --disable-background-networking --disable-component-update --disable-sync"
).split()
BOOT_TIMEOUT = 90  # seconds for Pyodide + numpy to boot on a loaded 2-core machine
LOCAL_HOSTS = {"127.0.0.1"}

# What Chromium and PyScript print when the numpy wheel is missing: expected (and explained in
# #errors by the page itself) on a machine where `make setup` found no wheel.
NUMPY_MISSING = [
    r"numpy.*\.whl - Failed to load resource: .* 404",
    r"error occurred while loading numpy|Failed to fetch|integrity.*numpy.*\.whl|integrity checks failed",
]

# Console lines that are part of normal operation, not failures.
ALWAYS_EXPECTED = [
    # A worker without cross-origin isolation cannot reach the DOM; ours never needs to.
    r"Unable to use `window` or `document` in worker",
]


def chromium_paths():
    browser, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not browser or not driver:
        raise RuntimeError("chromium/chromedriver are not installed: run `make setup` (it installs them with apt-get)")
    return browser, driver


def start_chromium(width=1280, height=900):
    browser, driver = chromium_paths()
    options = webdriver.ChromeOptions()
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="falken-chromium-")
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--window-size={width},{height}")
    # Any host but this machine fails to resolve, so a stray request is an error in the console.
    options.add_argument("--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1")
    options.binary_location = browser
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    chrome = webdriver.Chrome(options=options, service=Service(driver))
    chrome.profile_dir = profile
    return chrome


class Page:
    """One test's view of the shared browser: navigation, waits, console and network checks."""

    def __init__(self, driver, base_url):
        self.driver = driver
        self.base_url = base_url
        self.expected_console = list(ALWAYS_EXPECTED)
        self.console = []
        self.requests = []

    def open(self, path="", wait_ready=True):
        self.drain_logs()
        self.driver.get(self.base_url + path)
        if wait_ready:
            self.wait_for("document.body.dataset.ready === 'true'", what="body[data-ready=true]",
                          give_up_if="document.body.dataset.ready === 'error'")
        return self

    def js(self, script, *args):
        return self.driver.execute_script(script, *args)

    def wait_for(self, condition, timeout=BOOT_TIMEOUT, what=None, give_up_if="false"):
        """Poll a JS expression until truthy; fail with the page's errors if it never is."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.js(f"return ({condition});")
            if value:
                return value
            if self.js(f"return ({give_up_if});"):
                break
            time.sleep(0.1)
        self.drain_logs()
        errors = self.js("const e = document.getElementById('errors'); return e ? e.innerText : ''")
        severe = [line for level, line in self.console if level == "SEVERE"]
        raise AssertionError(f"timed out waiting for {what or condition}; #errors: {errors!r}; "
                             f"console errors: {severe[-5:]}")

    def expect_console(self, pattern):
        """Declare a SEVERE console line this test provokes on purpose."""
        self.expected_console.append(pattern)

    def drain_logs(self):
        try:
            for entry in self.driver.get_log("browser"):
                self.console.append((entry["level"], entry["message"]))
            for entry in self.driver.get_log("performance"):
                message = json.loads(entry["message"])["message"]
                if message["method"] == "Network.requestWillBeSent":
                    self.requests.append(message["params"]["request"]["url"])
        except WebDriverException:
            pass

    def unexpected_console_errors(self):
        self.drain_logs()
        return [line for level, line in self.console
                if level == "SEVERE" and not any(re.search(p, line) for p in self.expected_console)]

    def foreign_requests(self):
        """Every request the page or its workers made to a host other than this machine."""
        self.drain_logs()
        foreign = []
        for url in self.requests:
            parts = urlsplit(url)
            if parts.scheme in ("blob", "data", "about", "chrome-extension"):
                continue
            if parts.hostname not in LOCAL_HOSTS:
                foreign.append(url)
        return foreign

    def text(self, selector):
        return self.js("const e = document.querySelector(arguments[0]); return e ? e.innerText : null", selector)

    def errors_text(self):
        return self.text("#errors") or ""

    def screenshot(self, name):
        from pathlib import Path
        folder = Path(__file__).resolve().parents[2] / "build" / "screenshots"
        folder.mkdir(parents=True, exist_ok=True)
        self.driver.save_screenshot(str(folder / f"{name}.png"))
