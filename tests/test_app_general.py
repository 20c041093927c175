"""The whole page at phone size and by keyboard; screenshots of every view for people to look at."""
import pytest
from selenium.webdriver.common.keys import Keys

from tests.support.proxies import live_proxies, trace_proxies

pytestmark = [pytest.mark.browser, pytest.mark.needs_numpy]
VIEWS = ("tictactoe", "digits", "text")


@pytest.fixture
def phone(page):
    page.viewport = (360, 640)
    return page


def test_every_view_fits_a_360_pixel_phone(phone):
    phone.open()
    for view in VIEWS:
        phone.click(f"#nav-{view}")
        phone.wait_for(f"document.getElementById('{view}').dataset.ready === 'true'", what=f"the {view} view")
        width = phone.js("return document.documentElement.clientWidth")
        overflow = phone.js("return [...document.querySelectorAll('#' + arguments[0] + ' *')]"
                            ".filter(e => e.getBoundingClientRect().right > arguments[1] + 1).map(e => e.id || e.tagName)",
                            view, width)
        assert overflow == [], f"{view} overflows a 360 px screen: {overflow[:5]}"
        phone.screenshot(f"phone-{view}")


def test_views_and_controls_are_reachable_by_keyboard(page):
    page.open()
    reached = []
    for _ in range(40):   # keys go to whatever has focus, as a person's keyboard would
        page.press(Keys.TAB)
        reached.append(page.js("return document.activeElement.id"))
    for control in ("nav-digits", "nav-text", "cell-0", "ttt-new", "ttt-first", "ttt-knowledge", "ttt-upload"):
        assert control in reached, f"Tab never reaches #{control}"
    page.send_keys("#nav-digits", Keys.ENTER)
    assert page.js("return location.hash") == "#digits"
    page.screenshot("tictactoe-desktop")


def events_and_errors(page):
    """Ten learning-rate slider moves (an async handler that awaits the worker) and three errors
    shown and dismissed (Write with a character the text model never saw)."""
    page.js("location.hash = '#digits'")
    for i in range(10):
        page.js("const s = document.getElementById('lr'); s.value = arguments[0];"
                "s.dispatchEvent(new Event('input', {bubbles: true}))", str(-3 + 0.05 * (i % 3)))
    page.js("location.hash = '#text'; document.getElementById('text-prefix').value = 'The \u00a4'")
    for _ in range(3):
        page.click("#text-sample")
        page.wait_for("document.querySelector('#errors .error button')", what="the error")
        page.js("document.querySelector('#errors .error button').click()")
        page.wait_for("!document.querySelector('#errors .error')", what="the error dismissed")


def test_events_and_dismissed_errors_leave_no_live_proxies(page):
    page.open("#text")
    page.wait_for("!document.getElementById('text-train').disabled", what="the trainer")
    trace_proxies(page)
    events_and_errors(page)                     # anything made once, on first use, is made now
    warm = live_proxies(page)
    events_and_errors(page)
    # An await still in flight (the slider's call to the worker) holds its promise's callbacks a moment.
    page.wait_for(f"window.pyodideTraced._module.pyproxy_alloc_map.size <= {warm}", timeout=5,
                  what=f"the live PyProxies back to {warm} after 10 more events and 3 more errors")


# Long tasks from the switch to #tictactoe until it is booted (the boot's last task sets its
# data-ready), and from the switch back until two frames later; installed and fired from the page.
SWITCH_PROBE = """
const probe = window.switchProbe = {longTasks: [], windows: [[performance.now(), null]], done: false};
new PerformanceObserver(list => list.getEntries().forEach(e => probe.longTasks.push([e.startTime, e.duration])))
  .observe({type: 'longtask'});
new MutationObserver(() => {
  if (probe.windows[0][1] !== null) return;
  probe.windows[0][1] = performance.now();
  setTimeout(() => {
    const back = [performance.now(), null];
    probe.windows.push(back);
    location.hash = '#digits';
    requestAnimationFrame(() => requestAnimationFrame(() => {
      back[1] = performance.now();
      setTimeout(() => { probe.done = true; }, 200);    // long-task entries arrive a little later
    }));
  }, 100);
}).observe(document.getElementById('tictactoe'), {attributes: true, attributeFilter: ['data-ready']});
location.hash = '#tictactoe';
"""


def test_switching_views_while_training_makes_no_long_task(page):
    """The first visit to Tic-tac-toe boots it (download, import, parse, render) on the page's
    thread while the worker trains; none of it may block the page for 50 ms or more."""
    page.open("#digits")
    if not page.js("return PerformanceObserver.supportedEntryTypes.includes('longtask')"):
        pytest.skip("this browser reports no long tasks (the Long Tasks API is Chromium's)")
    page.wait_for("!document.getElementById('train-start').disabled", what="the trainer")
    page.click("#train-start")
    page.wait_for("+document.getElementById('train-status').dataset.iteration > 100", what="training")
    page.js(SWITCH_PROBE)
    page.wait_for("window.switchProbe.done", what="the switch to tic-tac-toe and back")
    probe = page.js("return window.switchProbe")
    assert page.js("return document.getElementById('train-status').dataset.state") == "running"
    page.click("#train-pause")
    during = [round(duration) for start, duration in probe["longTasks"]
              if any(start < end and start + duration > begin for begin, end in probe["windows"])]
    assert during == [], f"long tasks (ms) on the switch: {during}"
