"""A view's settings in the address: `#digits?model=cnn&lr=0.002&batch=64`, `#text?t=0.5`.

Browser-agnostic: it splits and writes such hashes and checks each value against what the setting
takes; app/address.py does the page's part (the controls, history.replaceState, the notice).
Everything before `?` names the view, so a link with settings opens the same view as one without.
"""
import math
from urllib.parse import parse_qsl, quote


def view_name(hash_text):
    """The view a hash names: "#digits?lr=0.01" -> "digits" ("" for none)."""
    return hash_text.lstrip("#").split("?", 1)[0]


def split_hash(hash_text):
    """(view, {name: raw text}) from "#view?name=value&…"; a name given twice keeps its last value."""
    view, _, query = hash_text.lstrip("#").partition("?")
    return view, dict(parse_qsl(query, keep_blank_values=True))


def format_hash(view, values):
    """"#view?name=value&…" in the order given; just "#view" with no values."""
    query = "&".join(f"{quote(name)}={quote(str(value), safe='.-_:')}" for name, value in values.items())
    return f"#{view}?{query}" if query else f"#{view}"


class Choice:
    """One of a few words, each standing for a control's value ("cnn" -> "mnist-cnn")."""

    def __init__(self, words):
        self.words = dict(words)             # word in the address -> the control's value

    def read(self, text):
        if text not in self.words:
            raise ValueError(f"it is not one of {', '.join(self.words)}")
        return self.words[text]

    def write(self, value):
        return next(word for word, control_value in self.words.items() if control_value == value)


class Number:
    """A number from `low` to `high` (whole if `whole`), written with `digits` significant digits."""

    def __init__(self, low, high, whole=False, digits=4):
        self.low, self.high, self.whole, self.digits = low, high, whole, digits

    def read(self, text):
        try:
            number = float(text)
        except ValueError:
            number = math.nan
        if not (math.isfinite(number) and self.low <= number <= self.high) or (self.whole and number != int(number)):
            kind = "a whole number" if self.whole else "a number"
            raise ValueError(f"it is not {kind} from {self.low:g} to {self.high:g}")
        return int(number) if self.whole else number

    def write(self, value):
        return str(int(value)) if self.whole else f"{value:.{self.digits}g}"


def read_settings(raw, kinds):
    """({name: value} for the valid settings, [a plain sentence per one ignored]).
    `kinds` maps each setting's name to its Choice or Number; names it lacks are ignored too."""
    values, ignored = {}, []
    for name, text in raw.items():
        if name not in kinds:
            ignored.append(f"“{name}” is not a setting here (they are {', '.join(kinds)})")
            continue
        try:
            values[name] = kinds[name].read(text)
        except ValueError as why:
            ignored.append(f"{name}={text!r}: {why}")
    return values, ignored


def write_settings(values, kinds):
    """{name: text for the address} in the order of `kinds`."""
    return {name: kinds[name].write(values[name]) for name in kinds if name in values}
