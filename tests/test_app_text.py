"""Text in every engine: the shipped knowledge writes at once; the worker trains on the text."""
import pytest

pytestmark = [pytest.mark.browser, pytest.mark.needs_numpy]


def write(page):
    """Click Write and return the new text (writing is asynchronous: it may run in the worker)."""
    before = page.text("#text-output")
    page.js("window.textBefore = arguments[0]", before)
    page.click("#text-sample")
    page.wait_for("document.getElementById('text-output').textContent !== window.textBefore", what="new text")
    return page.text("#text-output")


def test_the_shipped_knowledge_writes_and_training_runs_in_the_worker(page, tmp_path):
    page.open("#text")
    page.wait_for("document.getElementById('text-output').textContent.length > 100", what="the first sample")
    first = page.text("#text-output")
    assert first.startswith("The ")
    page.js("const s = document.getElementById('text-temperature'); s.value = '0.3';"
            "s.dispatchEvent(new Event('input', {bubbles: true}))")
    assert page.text("#text-temperature-value") == "0.30"
    assert write(page) != first
    page.wait_for("!document.getElementById('text-train').disabled", what="the trainer worker")
    page.click("#text-train")
    page.wait_for("+document.getElementById('text-status').dataset.iteration >= 3", what="text training steps")
    assert len(write(page)) > 100          # written by the model in training, in the worker
    page.click("#text-train")
    page.wait_for("document.getElementById('text-status').dataset.state === 'paused'", what="the pause")
    assert float(page.js("return document.getElementById('text-status').dataset.loss")) > 0
    assert "nats/char" in page.text("#text-status")
    assert len(write(page)) > 100
    page.screenshot("text")
    # An upload that is not text is refused in plain words; the model keeps writing.
    bad = tmp_path / "picture.txt"
    bad.write_bytes(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40)
    page.upload("#text-upload", bad)
    page.wait_for("document.getElementById('errors').textContent.includes('picture.txt')", what="the error")
    assert "not UTF-8 text" in page.errors_text()
    assert len(write(page)) > 100


def test_an_uploaded_text_with_a_new_alphabet_trains_a_new_model(page, tmp_path):
    page.open("#text")
    page.wait_for("!document.getElementById('text-train').disabled", what="the trainer worker")
    words = ["αβγ", "δεζ", "ηθι", "κλμ", "νξο"]
    own = tmp_path / "greek.txt"
    own.write_text(" ".join(words[(i * 7) % 5] for i in range(3000)), encoding="utf-8")
    page.upload("#text-upload", own)
    page.wait_for("document.getElementById('text-status').textContent.includes('greek.txt')", what="the upload")
    page.click("#text-train")
    page.wait_for("+document.getElementById('text-status').dataset.iteration >= 5", what="training on it")
    page.click("#text-train")
    page.wait_for("document.getElementById('text-train').textContent === 'Train'", what="the pause")
    page.js("document.getElementById('text-prefix').value = ''")
    output = write(page)
    assert len(output) > 100 and set(output) <= set("αβγδεζηθικλμνξο \n"), output[:80]


def choose(page, kind):
    page.js("const s = document.getElementById('text-model'); s.value = arguments[0];"
            "s.dispatchEvent(new Event('change', {bubbles: true}))", kind)
    page.wait_for(f"document.getElementById('text-status').dataset.model === '{kind}'", what=f"the {kind}")


def test_the_lstm_writes_by_default_and_the_rnn_stays_selectable_and_trainable(page):
    page.open("#text")
    page.wait_for("document.getElementById('text-output').textContent.length > 100", what="the first sample")
    assert page.js("return document.getElementById('text-model').value") == "char-lstm"
    assert page.js("return document.getElementById('text-status').dataset.model") == "char-lstm"
    choose(page, "char-rnn")
    assert "RNN" in page.text("#text-status") and len(write(page)) > 100
    page.wait_for("!document.getElementById('text-train').disabled", what="the trainer worker")
    page.click("#text-train")
    page.wait_for("+document.getElementById('text-status').dataset.iteration >= 3", what="RNN training steps")
    choose(page, "char-lstm")                     # pauses the RNN's session; the LSTM writes
    assert page.text("#text-train") == "Train" and "LSTM" in page.text("#text-status")
    assert len(write(page)) > 100
    page.click("#text-train")
    page.wait_for("document.getElementById('text-status').dataset.state === 'running'", what="the LSTM session")
    page.wait_for("+document.getElementById('text-status').dataset.iteration >= 1", what="LSTM training steps")
    page.click("#text-train")
    page.wait_for("document.getElementById('text-status').dataset.state === 'paused'", what="the pause")
    assert len(write(page)) > 100
