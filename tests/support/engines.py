"""The three browser engines the tests run in, each started the same way and driven alike.

Chromium and WebKitGTK speak WebDriver through selenium (chromedriver, WebKitWebDriver);
Firefox ESR has no geckodriver in Debian, so Mozilla's own Python client (marionette_driver)
drives it, behind the small part of selenium's interface the tests use (`FirefoxDriver`).
Every engine sends what is not for 127.0.0.1 to a recording proxy (Chromium: an unresolvable
host), and maps proxy.ALIASES to 127.0.0.1.
"""
import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from tests.support import proxy

ENGINES = ("chromium", "firefox", "webkit")
CHROMIUM_FLAGS = (
    "--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage --disable-quic "
    "--no-first-run --disable-background-networking --disable-component-update --disable-sync"
).split()
MINIBROWSER = "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser"
# Locales for the engines' own UI and navigator.language: a real visitor's by default.
DEFAULT_LOCALE = "en-US"


def missing(engine):
    """None when the engine can run here, else the one-line reason its tests skip: the line
    `make setup` (tools/ensure_browsers.sh) wrote when it could not install the engine."""
    said = Path(__file__).resolve().parents[2] / "build" / "engines" / f"{engine}.missing"
    if said.exists():
        return said.read_text().strip()
    needs = {"chromium": ["chromium", "chromedriver"], "firefox": ["firefox-esr"],
             "webkit": ["WebKitWebDriver", "Xvfb"]}[engine]
    absent = [name for name in needs if not shutil.which(name)]
    if engine == "webkit" and not os.path.exists(MINIBROWSER):
        absent.append(MINIBROWSER)
    if engine == "firefox":
        try:
            import marionette_driver  # noqa: F401
        except ImportError:
            absent.append("the marionette_driver package")
    if absent:
        return f"{engine} is not installed here ({', '.join(absent)} missing): `make setup` installs it"
    return None


def start(engine, locale=DEFAULT_LOCALE, width=1280, height=900):
    """A fresh browser of `engine` with its own profile, showing numbers for `locale`
    (a BCP-47 tag, or "C" for a shell without a locale); `.quit()` ends it and its helpers."""
    reason = missing(engine)
    if reason:
        raise RuntimeError(reason)
    recorder = proxy.RecordingProxy()
    try:
        driver = {"chromium": start_chromium, "firefox": start_firefox, "webkit": start_webkit}[engine](
            recorder, locale, width, height)
    except Exception:
        recorder.stop()
        raise
    driver.engine = engine
    driver.proxy = recorder
    return driver


# -- Chromium ------------------------------------------------------------------------------------
def start_chromium(recorder, locale, width, height):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="falken-chromium-")
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--window-size={width},{height}")
    options.add_argument(f"--lang={locale}")
    options.add_experimental_option("prefs", {"intl.accept_languages": locale})
    aliases = " , ".join(f"MAP {host} 127.0.0.1" for host in sorted(proxy.ALIASES))
    # Any other host fails to resolve, so a stray request is an error in the console and the log.
    options.add_argument(f"--host-resolver-rules={aliases} , MAP * ~NOTFOUND , EXCLUDE 127.0.0.1")
    options.binary_location = shutil.which("chromium")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))
    quit_driver = driver.quit

    def quit():
        quit_driver()
        recorder.stop()
        shutil.rmtree(profile, ignore_errors=True)
    driver.quit = quit
    return driver


# -- WebKitGTK -----------------------------------------------------------------------------------
def free_display():
    for number in range(90, 190):
        if not os.path.exists(f"/tmp/.X11-unix/X{number}") and not os.path.exists(f"/tmp/.X{number}-lock"):
            return number
    raise RuntimeError("no free X display number between :90 and :189")


def start_xvfb():
    number = free_display()
    xvfb = subprocess.Popen(["Xvfb", f":{number}", "-screen", "0", "1920x1200x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not os.path.exists(f"/tmp/.X11-unix/X{number}"):
        if xvfb.poll() is not None or time.monotonic() > deadline:
            xvfb.kill()
            raise RuntimeError(f"Xvfb :{number} did not start")
        time.sleep(0.05)
    return xvfb, f":{number}"


def posix_locale(tag):
    """The LANG WebKitGTK derives navigator.language from: "de-DE" -> "de_DE.UTF-8"."""
    return "C.UTF-8" if tag == "C" else tag.replace("-", "_") + ".UTF-8"


# A WebKitWebDriver session sometimes never starts (MiniBrowser never connects, seen on a busy
# 2-core CI machine), and a hung command would otherwise wait for ever: both get a deadline, and
# a start that misses its deadline is tried once more on a fresh display.
WEBKIT_SESSION_START_S = 90
WEBKIT_COMMAND_S = 180      # no single WebDriver command of the tests takes near this
WEBKIT_QUIT_S = 30


class WebKitStartTimedOut(RuntimeError):
    pass


def start_webkit(recorder, locale, width, height):
    for attempt in (1, 2):
        try:
            return start_webkit_once(recorder, locale, width, height)
        except WebKitStartTimedOut as error:
            if attempt == 2:
                raise RuntimeError(f"WebKit did not start, twice: {error}") from None


def kill_group(process):
    """WebKitWebDriver and the MiniBrowser and web processes it started (its own session)."""
    if process is not None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def start_webkit_once(recorder, locale, width, height):
    from selenium import webdriver
    from selenium.webdriver.common.proxy import Proxy
    from selenium.webdriver.webkitgtk.service import Service

    xvfb, display = start_xvfb()
    options = webdriver.WebKitGTKOptions()
    options.binary_location = MINIBROWSER
    options.add_argument("--automation")
    options.proxy = Proxy({"proxyType": "manual", "httpProxy": recorder.address,
                           "sslProxy": recorder.address, "noProxy": ["127.0.0.1"]})
    # WebKitWebDriver starts MiniBrowser with its own environment: display and locale go there.
    env = {key: value for key, value in os.environ.items() if key != "LANGUAGE"}
    env.update(DISPLAY=display, LANG=posix_locale(locale), LC_ALL=posix_locale(locale))
    # Skia paints on the CPU: its GPU path (Mesa's software GL under Xvfb) crashed the web process
    # compiling a shader module now and then (engine_failed_on_its_own).
    env.update(WEBKIT_SKIA_ENABLE_CPU_RENDERING="1")
    # What WebKitWebDriver, MiniBrowser and its web processes print goes to a file, so a test
    # whose page crashed can say what the engine said (tests/conftest.py adds its tail).
    log_fd, log_path = tempfile.mkstemp(prefix="falken-webkit-", suffix=".log")
    os.close(log_fd)
    service = Service(env=env, log_output=log_path, popen_kw={"start_new_session": True})
    timer = threading.Timer(WEBKIT_SESSION_START_S, lambda: kill_group(getattr(service, "process", None)))
    timer.start()
    try:
        driver = webdriver.WebKitGTK(options=options, service=service)
    except Exception as error:
        kill_group(getattr(service, "process", None))
        xvfb.kill()
        os.unlink(log_path)
        if not timer.is_alive():
            raise WebKitStartTimedOut(f"no session within {WEBKIT_SESSION_START_S} s ({error})") from None
        raise
    finally:
        timer.cancel()
    driver.command_executor._client_config.timeout = WEBKIT_COMMAND_S
    driver.set_window_size(width, height)
    quit_driver = driver.quit

    def quit():
        ending = threading.Timer(WEBKIT_QUIT_S, lambda: kill_group(service.process))
        ending.start()
        try:
            quit_driver()
        except Exception:
            pass                # a browser that would not end is killed below all the same
        finally:
            ending.cancel()
            kill_group(service.process)
            xvfb.terminate()
            xvfb.wait(timeout=10)
            recorder.stop()
            if os.path.exists(log_path):
                os.unlink(log_path)
    driver.quit = quit
    driver.log_path = log_path
    return driver


# Two failures of WebKitGTK 2.50 itself, each seen about once in a run of the 82 WebKit tests
# here and never again on a rerun: its web process crashing in Skia ("Unable to load module
# sksl_rt_shader" or "sksl_frag", then "WebProcess CRASHED"), and Pyodide's wasm failing while the
# interpreter loads ("Pyodide has suffered a fatal error" at the Loading interpreter stage), before
# a line of Falken runs. The crash reaches the test as "page crash or hang", or as a WebDriver
# error with no message from the command that was under way. A third: a session that did not
# start, twice (start_webkit; seen once on CI, on a machine busy enough to take 85 min for the
# suite). A WebKit test that fails so is run once more (tests/conftest.py); nothing else is: an
# assertion failing is never the engine's.
def engine_failed_on_its_own(error, driver):
    from selenium.common.exceptions import WebDriverException

    said = str(error)
    if said.startswith("WebKit did not start, twice"):
        return True
    if "page crash or hang" in said or isinstance(error, WebDriverException):
        return "WebProcess CRASHED" in engine_log(driver, lines=200)
    return "Pyodide has suffered a fatal error" in said and "[Loading interpreter]" in said


def engine_log(driver, lines=40):
    """The last lines the engine printed, where it keeps a log (WebKit), else ""."""
    path = getattr(driver, "log_path", None)
    if not path or not os.path.exists(path):
        return ""
    with open(path, errors="replace") as log:
        return "".join(log.readlines()[-lines:])


# -- Firefox ESR ---------------------------------------------------------------------------------
def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_firefox(recorder, locale, width, height):
    from marionette_driver.marionette import Marionette

    host, port = recorder.address.split(":")
    prefs = {
        # Everything not for this machine goes to the recording proxy; 127.0.0.1 never does.
        "network.proxy.type": 1, "network.proxy.http": host, "network.proxy.http_port": int(port),
        "network.proxy.ssl": host, "network.proxy.ssl_port": int(port),
        "network.proxy.no_proxies_on": "127.0.0.1", "network.proxy.allow_hijacking_localhost": False,
        "intl.accept_languages": locale if locale != "C" else "C",
        "intl.locale.requested": locale if locale != "C" else "",
        # Firefox's own background traffic off (what geckodriver's recommended prefs do), so
        # what reaches the proxy is the page's.
        "remote.prefs.recommended": True, "services.settings.server": "data:,#remote-settings-dummy/v1",
        # The page's own downloads land without a dialog.
        "browser.download.useDownloadDir": True, "browser.download.always_ask_before_handling_new_types": False,
    }
    client = Marionette(bin=shutil.which("firefox-esr"), port=free_port(), headless=True, prefs=prefs,
                        gecko_log=os.devnull, startup_timeout=120)
    client.start_session()
    driver = FirefoxDriver(client)
    driver.set_window_size(width, height)
    return driver


class _SwitchTo:
    def __init__(self, client):
        self.client = client

    @property
    def active_element(self):
        return self.client.get_active_element()

    def frame(self, element):
        self.client.switch_to_frame(element)


class FirefoxDriver:
    """Marionette behind the part of selenium's WebDriver interface the tests use."""

    def __init__(self, client):
        self.client = client
        self.switch_to = _SwitchTo(client)

    def get(self, url):
        self.client.navigate(url)

    def execute_script(self, script, *args):
        # sandbox=None: the page's own globals, as selenium's execute_script sees them.
        return self.client.execute_script(script, script_args=list(args), new_sandbox=False, sandbox=None)

    def execute_async_script(self, script, *args):
        return self.client.execute_async_script(script, script_args=list(args), new_sandbox=False, sandbox=None)

    def find_element(self, by, value):
        return self.client.find_element(by, value)

    def back(self):
        self.client.go_back()

    def set_window_size(self, width, height):
        self.client.set_window_rect(width=width, height=height)

    def save_screenshot(self, path):
        Path(path).write_bytes(base64.b64decode(self.client.screenshot(full=False)))

    def quit(self):
        profile = self.client.instance.profile if self.client.instance else None
        try:
            self.client.delete_session()
        finally:
            self.client.cleanup()
            self.proxy.stop()
            if profile is not None:
                # Remove it now: mozprofile would try again at interpreter exit, and fail noisily.
                shutil.rmtree(profile.profile, ignore_errors=True)
                profile.restore = False


# -- what differs between the two clients, in one place ------------------------------------------
def script_errors():
    """(errors a script run may raise while a page navigates, errors that mean the browser is gone),
    for both clients."""
    from selenium.common.exceptions import InvalidSessionIdException, WebDriverException
    try:
        from marionette_driver import errors
    except ImportError:
        return (WebDriverException,), (InvalidSessionIdException,)
    return ((WebDriverException, errors.MarionetteException),
            (InvalidSessionIdException, errors.InvalidSessionIdException))


def type_keys(driver, keys):
    """Keys to whatever has focus (WebDriver key actions)."""
    if isinstance(driver, FirefoxDriver):
        driver.client.actions.sequence("key", "keyboard").send_keys(keys).perform()
    else:
        from selenium.webdriver.common.action_chains import ActionChains
        ActionChains(driver).send_keys(keys).perform()


def pointer_strokes(driver, element, strokes):
    """Mouse strokes: each a list of (x, y) offsets from the element's centre, button held."""
    for stroke in strokes:
        if isinstance(driver, FirefoxDriver):
            actions = driver.client.actions.sequence("pointer", "mouse", {"pointerType": "mouse"})
            actions.pointer_move(*stroke[0], duration=10, origin=element).pointer_down()
            for point in stroke[1:]:
                actions.pointer_move(*point, duration=10, origin=element)
            actions.pointer_up().perform()
            driver.client.actions.release()
        else:
            from selenium.webdriver.common.action_chains import ActionChains
            actions = ActionChains(driver, duration=10)
            actions.move_to_element_with_offset(element, *stroke[0]).click_and_hold()
            for point in stroke[1:]:
                actions.move_to_element_with_offset(element, *point)
            actions.release().perform()


def drain(driver):
    """The console errors and request URLs the engine logged since the last call.
    Chromium logs both; elsewhere the probe keeps the console and the proxy the requests."""
    console, requests = [], []
    if driver.engine == "chromium":
        from selenium.common.exceptions import WebDriverException
        try:
            console = [(entry["level"], entry["message"]) for entry in driver.get_log("browser")]
            for entry in driver.get_log("performance"):
                message = json.loads(entry["message"])["message"]
                if message["method"] == "Network.requestWillBeSent":
                    requests.append(message["params"]["request"]["url"])
        except WebDriverException:
            pass
        return console, requests
    try:
        lines = driver.execute_script("return window.__falkenProbe ? window.__falkenProbe.splice(0) : []") or []
    except Exception:      # a page mid-navigation has no probe to read yet
        lines = []
    return [("SEVERE", line) for line in lines], requests
