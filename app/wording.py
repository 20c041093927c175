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


def restored_line(step, seconds_ago):
    """The notice over a training brought back from the last visit."""
    seconds_ago = max(0, seconds_ago)
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds_ago >= size:
            count = int(seconds_ago // size)
            ago = f"{count} {unit}{'s' if count != 1 else ''} ago"
            break
    else:
        ago = "just now" if seconds_ago < 5 else f"{int(seconds_ago)} seconds ago"
    return f"Restored your training from step {step:,}, saved {ago}."
