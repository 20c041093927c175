"""The page's Content-Security-Policy, and what comes from an upload or a model reaching the page
as text, never as markup. Every browser test runs under the policy (its violations are console
errors the `page` fixture fails on); these check the policy itself and markup-laden uploads."""
import re

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.browser
MARKUP_NAME = "<img src=x onerror=window.__falkenPwned=1>"
# Elements an upload's markup would make if it were parsed as HTML anywhere on the page.
INJECTED = 'img, b, [onerror], script:not([src]):not([type="py"])'


def page_policy():
    html = (ROOT / "index.html").read_text()
    found = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', html)
    assert found, "index.html has no Content-Security-Policy meta"
    assert html.index("Content-Security-Policy") < html.index("<script"), "the policy must precede every script"
    return {part.split()[0]: part.split()[1:] for part in found.group(1).split("; ")}


def test_scripts_workers_fetches_and_wasm_come_only_from_the_site():
    policy = page_policy()
    assert policy["default-src"] == ["'self'"]
    # PyScript 0.7.31 builds its hook runners with Function() (Pyodide itself needs no eval).
    assert policy["script-src"] == ["'self'", "'unsafe-eval'", "'wasm-unsafe-eval'"]
    assert policy["worker-src"] == ["'self'", "blob:"]       # PyScript starts its workers from blob: URLs
    assert policy["connect-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"] and policy["base-uri"] == ["'none'"]
    assert not any("unsafe-inline" in sources or "*" in sources or "data:" in sources
                   for name, sources in policy.items() if name != "style-src")


def no_injected_markup(page):
    return page.js(f"return [document.querySelectorAll({INJECTED!r}).length, window.__falkenPwned === undefined]")


@pytest.mark.needs_numpy
def test_a_knowledge_upload_named_with_markup_shows_its_name_as_text(page, tmp_path):
    page.open()
    before = page.js(f"return document.querySelectorAll({INJECTED!r}).length")
    bad = tmp_path / f"{MARKUP_NAME}.npz"
    bad.write_bytes(b"<b>not a zip</b>" * 20)
    page.upload("#ttt-upload", bad)
    page.wait_for("document.getElementById('errors').textContent.length > 0", what="the refusal")
    assert f"{MARKUP_NAME}.npz is not a usable knowledge file" in page.errors_text()
    good = tmp_path / f"{MARKUP_NAME}-easy.npz"
    good.write_bytes((ROOT / "knowledge/tictactoe-easy.npz").read_bytes())
    page.upload("#ttt-upload", good)
    page.wait_for("document.getElementById('ttt-knowledge-info').textContent.includes('-easy.npz')",
                  what="the uploaded player")
    assert page.selected_text("#ttt-knowledge") == f"Yours: {MARKUP_NAME}-easy.npz"
    assert f"{MARKUP_NAME}-easy.npz" in page.text("#ttt-knowledge-info")
    assert no_injected_markup(page) == [before, True]


@pytest.mark.needs_numpy
def test_a_text_upload_of_markup_trains_and_writes_markup_as_literal_text(page, tmp_path):
    page.open("#text")
    page.wait_for("!document.getElementById('text-train').disabled", what="the trainer worker")
    before = page.js(f"return document.querySelectorAll({INJECTED!r}).length")
    own = tmp_path / "<b>page.txt"
    own.write_text(f"{MARKUP_NAME} <script>window.__falkenPwned=2</script> <b>bold</b>\n" * 120)
    page.upload("#text-upload", own)
    page.wait_for("document.getElementById('text-status').textContent.includes('page.txt')", what="the upload")
    assert page.text("#text-status").startswith("Ready to train on <b>page.txt")
    page.click("#text-train")
    page.wait_for("+document.getElementById('text-status').dataset.iteration >= 5", what="training on it")
    page.click("#text-train")
    page.wait_for("document.getElementById('text-train').textContent === 'Train'", what="the pause")
    page.js("document.getElementById('text-prefix').value = '<img'")
    page.click("#text-sample")
    page.wait_for("document.getElementById('text-output').textContent.startsWith('<img')", what="written markup")
    written = page.text("#text-output")
    assert written.count("<") > 1 and len(written) > 100, written[:80]
    assert no_injected_markup(page) == [before, True]
