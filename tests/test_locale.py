"""The page works whatever navigator.language says, and writes its numbers one way.

Each engine is started with its own locale setting (Chromium --lang, Firefox
intl.accept_languages / intl.locale.requested, WebKitGTK the LANG it is started with): "C"
(a shell with no locale, which WebKitGTK reports as the invalid tag "C"), a well-formed tag
no one has ("zz-ZZ"), German (decimal comma) and Arabic (its own digits).
"""
import pytest

from tests.conftest import new_page
from tests.support import engines

pytestmark = [pytest.mark.browser, pytest.mark.needs_numpy]
LOCALES = ("C", "zz-ZZ", "de-DE", "ar")


@pytest.fixture(params=[(e, tag) for e in engines.ENGINES for tag in LOCALES],
                ids=lambda p: f"{p[0]}-{p[1]}")
def localised_browser(request):
    engine, tag = request.param
    reason = engines.missing(engine)
    if reason:
        pytest.skip(reason)
    driver = engines.start(engine, locale=tag)
    yield driver, tag
    driver.quit()


def test_the_page_works_and_numbers_read_the_same_in_any_locale(localised_browser, site_server):
    driver, tag = localised_browser
    page = new_page(driver, site_server.url)
    page.open()
    raw = page.js("return Object.getOwnPropertyDescriptor(Navigator.prototype, 'language').get.call(navigator)")
    if driver.engine == "webkit" and tag == "C":
        assert raw == "C", "this case must meet the invalid tag the shell's locale gives"
    assert page.errors_text() == "", f"navigator.language {raw!r}"
    page.click("#cell-4")
    assert page.js("return [...document.querySelectorAll('.cell')].filter(c => c.textContent).length") == 2
    page.click("#nav-digits")
    page.wait_for("document.getElementById('digits').dataset.ready === 'true'", what="the digits view")
    assert page.js("return !!document.querySelector('#chart-loss .uplot')"), "the loss chart was not drawn"
    # Chart axes and the status lines Python writes use one style: 1,234.5 whatever the locale.
    assert page.js("return falkenNumbers.axis(null, [1234.5, 0.25, 3000, null])") == ["1,234.5", "0.25", "3,000", ""]
    assert page.errors_text() == ""
    assert page.unexpected_console_errors() == []
