"""Which WebKit failures are the engine's own, and so earn one rerun (tests/support/engines.py)."""
from types import SimpleNamespace

from selenium.common.exceptions import WebDriverException

from tests.support.engines import engine_failed_on_its_own

CRASH = ("Source/ThirdParty/skia/src/sksl/SkSLModuleLoader.cpp:157: fatal error: \"Unable to load module sksl_frag\"\n"
         "** (MiniBrowser:23415): WARNING **: 16:47:47.996: WebProcess CRASHED\n")


def driver_with_log(tmp_path, text):
    log = tmp_path / f"webkit-{len(list(tmp_path.iterdir()))}.log"
    log.write_text("Gtk-WARNING **: Locale not supported by C library.\n" + text)
    return SimpleNamespace(log_path=str(log))


def test_a_crashed_web_process_is_the_engines_failure_whatever_command_met_it(tmp_path):
    crashed = driver_with_log(tmp_path, CRASH)
    assert engine_failed_on_its_own(WebDriverException(""), crashed)
    assert engine_failed_on_its_own(RuntimeError("[webkit] page crash or hang"), crashed)


def test_falkens_own_failures_are_never_rerun(tmp_path):
    crashed, quiet = driver_with_log(tmp_path, CRASH), driver_with_log(tmp_path, "")
    assert not engine_failed_on_its_own(AssertionError("expected 7, got 1"), crashed)   # the test's verdict
    assert not engine_failed_on_its_own(WebDriverException(""), quiet)                 # no crash in the log
    assert not engine_failed_on_its_own(RuntimeError("Pyodide has suffered a fatal error [Running app]"), quiet)
    assert engine_failed_on_its_own(RuntimeError("Pyodide has suffered a fatal error [Loading interpreter]"), quiet)


def test_a_session_that_never_started_is_the_engines_failure():
    said = ("WebKit did not start, twice: no session within 90 s (('Connection aborted.', "
            "RemoteDisconnected('Remote end closed connection without response')))")
    assert engine_failed_on_its_own(RuntimeError(said), None)
    assert not engine_failed_on_its_own(RuntimeError("WebKit is not installed here"), None)
