"""The whole page at phone size and by keyboard; screenshots of every view for people to look at."""
import pytest
from selenium.webdriver.common.keys import Keys

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
