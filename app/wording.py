"""The sentences the page shows, built from plain values: no DOM here, so CPython tests them."""


def sentence(text):
    """`text` ending in one stop: messages often end in an error's own words, which may or may not
    have one (so "…HTTP 404" gets one and "…too high." keeps its own)."""
    text = str(text).rstrip()
    return text if text.endswith((".", "!", "?")) else text + "."


def predictor_line(source, accuracy=None, step=None):
    """What the digits predictor is predicting with: one sentence, at most one parenthesis."""
    words = f"Predicting with {source}"
    if step is not None:
        words += f" at step {step:,}"
    if accuracy is not None:
        words += f" (held-out accuracy {accuracy:.1%})"
    return sentence(words)
