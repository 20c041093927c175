"""One test's view of a browser, the same in Chromium, Firefox and WebKit.

Navigation, waits, input (clicks, keys, pointer strokes, uploads), downloads, and the checks
every test gets: no console error it did not declare, no request off this machine.
Chromium reports the console and the network through its WebDriver logs; Firefox and WebKit
through the console probe (tests/support/probe.js, put first in every page the test site
serves, and installed right after load on other servers) and the recording proxy.
"""
import base64
import re
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from tests.support import proxy
from tests.support.engines import script_errors
from tests.support.site import FRAME_PATH, PROBE

NAVIGATING, GONE = script_errors()
BOOT_TIMEOUT = 120   # seconds for Pyodide + numpy to boot on a loaded 2-core machine (WebKit is slowest)
LOCAL_HOSTS = {"127.0.0.1"} | proxy.ALIASES
# Hosts an engine asks for itself, with no page open: Firefox ESR 153 keeps polling its remote
# settings even with services.settings.server pointed away (seen on about:blank, ~1 a second).
# The proxy refuses them like any other; they are only not the page's requests.
ENGINE_OWN_HOSTS = {"firefox": {"firefox.settings.services.mozilla.com"}}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"

# What the engines and PyScript print when the numpy wheel is missing: expected (and explained
# in #errors by the page itself) on a machine where `make setup` found no wheel.
NUMPY_MISSING = [
    r"numpy.*\.whl - Failed to load resource: .* 404",
    r"error occurred while loading numpy|Failed to fetch|NetworkError|Load failed|integrity.*numpy.*\.whl"
    r"|integrity checks failed|numpy.*\.whl",
]

# Console lines that are part of normal operation, not failures.
ALWAYS_EXPECTED = [
    # A worker without cross-origin isolation cannot reach the DOM; ours never needs to.
    r"Unable to use `window` or `document` in worker",
]


class Page:
    """One test's view of a shared browser (from tests.support.engines.start)."""

    def __init__(self, driver, base_url):
        self.driver = driver
        self.engine = driver.engine
        self.base_url = base_url
        self.expected_console = list(ALWAYS_EXPECTED)
        self.console = []
        self.requests = []
        self.viewport = None      # (width, height): open the page in a frame of that size

    # -- navigation and waiting ----------------------------------------------------------------
    def open(self, path="", wait_ready=True):
        self.settle_before_leaving()
        self.drain_logs()
        url = self.base_url + path
        if self.viewport:
            # Desktop Firefox and WebKit windows cannot be made phone-narrow (500 and 447 px at
            # the least), so every engine gets the phone's viewport as a frame of that size,
            # served by the test site (tests.support.site.FRAME_PATH).
            width, height = self.viewport
            self.driver.get(f"{self.base_url.rstrip('/')}{FRAME_PATH}?" + urlencode({"w": width, "h": height, "src": url}))
            self.driver.switch_to.frame(self.driver.find_element("css selector", "iframe"))
            self.wait_for("location.protocol.startsWith('http') && document.readyState === 'complete'", what="the framed page")
        else:
            self.driver.get(url)
        if not self.js("return !!window.__falkenProbe") and self.engine != "chromium":
            self.js(PROBE.decode())     # a server that does not put the probe first (S3, make run)
        if wait_ready:
            self.wait_for("document.body.dataset.ready === 'true'", what="body[data-ready=true]",
                          give_up_if="document.body.dataset.ready === 'error'")
        return self

    def settle_before_leaving(self):
        """In WebKit and Firefox, a booted page is left only once its trainer worker has answered
        (or failed). WebKitGTK 2.50 can keep PyScript's IndexedDB package cache locked when a
        page leaves while the worker's PyScript is still opening it: every later page of the site
        then hangs at boot, "Loading Storage" (seen 3 times in ~20 such visits; never when the
        worker was up). Firefox ESR did so once in a full run (test_app_insight, fresh clone of
        961f97e); Chromium never has."""
        if self.engine == "chromium":
            return
        booted_without_worker = ("return !!document.body && document.body.dataset.ready === 'true'"
                                 " && !document.body.dataset.worker")
        deadline = time.monotonic() + BOOT_TIMEOUT
        try:
            while self.js(booted_without_worker) and time.monotonic() < deadline:
                time.sleep(0.2)
        except NAVIGATING:
            pass                        # not a page that could be waited on: nothing to settle

    def js(self, script, *args):
        return self.driver.execute_script(script, *args)

    def js_async(self, script, *args):
        return self.driver.execute_async_script(script, *args)

    def wait_for(self, condition, timeout=BOOT_TIMEOUT, what=None, give_up_if="false"):
        """Poll a JS expression until truthy; fail with the page's errors if it never is."""
        deadline, failed = time.monotonic() + timeout, None
        while time.monotonic() < deadline:
            try:
                value = self.js(f"return ({condition});")
                if value:
                    return value
                if self.js(f"return ({give_up_if});"):
                    break
            except GONE:
                raise                   # the browser is gone: nothing to wait for
            except NAVIGATING as error:
                # A page mid-navigation: no body yet, or (Firefox, WebKit) a result the driver
                # cannot parse while the new page still parses its head. Not yet, then.
                failed = error
            time.sleep(0.1)
        self.drain_logs()
        errors, boot = self.js("const text = id => (document.getElementById(id) || {}).innerText || '';"
                               "return [text('errors'), document.readyState + ': ' + text('boot-status') + ' [' + (document.documentElement.dataset.bootStage || '') + ']']")
        severe = [line for level, line in self.console if level == "SEVERE"]
        raise AssertionError(f"[{self.engine}] timed out waiting for {what or condition}; #errors: {errors!r}; "
                             f"page {boot!r}; console errors: {severe[-5:]}"
                             + (f"; the last poll failed: {failed}" if failed else ""))

    # -- input -----------------------------------------------------------------------------------
    def find(self, selector):
        return self.driver.find_element("css selector", selector)

    def click(self, selector):
        self.find(selector).click()

    def send_keys(self, selector, keys):
        self.find(selector).send_keys(keys)

    def press(self, keys):
        """Keys typed to whatever has focus, as a person's keyboard would."""
        from tests.support import engines
        engines.type_keys(self.driver, keys)

    def active_element_keys(self, keys):
        self.driver.switch_to.active_element.send_keys(keys)

    def upload(self, selector, path):
        self.find(selector).send_keys(str(path))

    def select(self, selector, value):
        """Choose an option of a <select> as a person would (the page hears `change`)."""
        self.js("const s = document.querySelector(arguments[0]); s.value = arguments[1];"
                "s.dispatchEvent(new Event('change', {bubbles: true}))", selector, value)

    def selected_text(self, selector):
        return self.js("const s = document.querySelector(arguments[0]); return s.options[s.selectedIndex].text",
                       selector)

    def options(self, selector):
        return self.js("return [...document.querySelector(arguments[0]).options].map(o => o.value)", selector)

    def draw(self, selector, strokes, units=28):
        """Draw strokes given in grid units (0–units) with the mouse, as real pointer events."""
        from tests.support import engines
        element = self.find(selector)
        size = self.js("return arguments[0].getBoundingClientRect().width", element)
        offsets = [[(round(x * size / units - size / 2), round(y * size / units - size / 2)) for x, y in stroke]
                   for stroke in strokes]
        engines.pointer_strokes(self.driver, element, offsets)

    def download(self, selector, timeout=30):
        """The bytes and file name of the download the control at `selector` offers.
        The page's download link is caught in the page (the same in every engine) and its
        object URL read back, instead of going through each engine's download manager."""
        # The object URL's Blob is kept as the page makes it and read directly: fetching a blob:
        # URL would be a connection the page's Content-Security-Policy (connect-src 'self') refuses.
        self.js("window.__downloads = [];"
                "if (!URL.__falkenBlobs) {"
                "  const make = URL.createObjectURL; URL.__falkenBlobs = {};"
                "  URL.createObjectURL = blob => { const url = make(blob); URL.__falkenBlobs[url] = blob; return url; };"
                "}"
                "if (!HTMLAnchorElement.prototype.__falkenClick) {"
                "  const click = HTMLAnchorElement.prototype.click;"
                "  HTMLAnchorElement.prototype.__falkenClick = click;"
                "  HTMLAnchorElement.prototype.click = function () {"
                "    if (this.download && window.__downloads) window.__downloads.push([this.download, this.href]);"
                "    else click.call(this); };"
                "}")
        self.click(selector)
        self.wait_for("window.__downloads.length > 0", timeout=timeout, what="the download")
        name, data = self.js_async(
            "const done = arguments[arguments.length - 1]; const [name, href] = window.__downloads[0];"
            "URL.__falkenBlobs[href].arrayBuffer().then(b => { let s = ''; const a = new Uint8Array(b);"
            "for (let i = 0; i < a.length; i += 32768) s += String.fromCharCode(...a.subarray(i, i + 32768));"
            "done([name, btoa(s)]); });")
        return name, base64.b64decode(data)

    # -- what the page said and asked for ----------------------------------------------------------
    def expect_console(self, pattern):
        """Declare a console error this test provokes on purpose."""
        self.expected_console.append(pattern)

    def drain_logs(self):
        from tests.support import engines
        console, requests = engines.drain(self.driver)
        self.console.extend(console)
        self.requests.extend(requests)

    def clear_logs(self):
        self.drain_logs()
        self.console.clear()
        self.requests.clear()
        self.driver.proxy.seen.clear()

    def unexpected_console_errors(self):
        self.drain_logs()
        return [line for level, line in self.console
                if level == "SEVERE" and not any(re.search(p, line) for p in self.expected_console)]

    def foreign_requests(self):
        """Every request the page or its workers made to a host other than this machine."""
        self.drain_logs()
        foreign = []
        for url in self.requests + list(self.driver.proxy.seen):
            parts = urlsplit(url)
            if parts.scheme in ("blob", "data", "about", "chrome-extension"):
                continue
            if parts.hostname not in LOCAL_HOSTS | ENGINE_OWN_HOSTS.get(self.engine, set()):
                foreign.append(url)
        return foreign

    def text(self, selector):
        return self.js("const e = document.querySelector(arguments[0]); return e ? e.innerText : null", selector)

    def errors_text(self):
        return self.text("#errors") or ""

    def screenshot(self, name):
        folder = SCREENSHOTS / self.engine
        folder.mkdir(parents=True, exist_ok=True)
        self.driver.save_screenshot(str(folder / f"{name}.png"))
