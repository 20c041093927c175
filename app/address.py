"""The page's side of settings in the address (app/hash_settings.py): a link's settings go into
the controls, and moving a control rewrites the address in place (history.replaceState, so the
back button still leaves the page rather than stepping through every slider position).

Ranges come from the controls themselves (min/max in index.html), so the address accepts
exactly what a person could set by hand."""
import math

from pyscript import window
from pyscript.ffi import to_js

from app.dom import by_id, listen
from app.errors import show_error
from app.hash_settings import Choice, Number, format_hash, read_settings, split_hash, write_settings
from app.stop_rules import KINDS

RULES = {kind: kind for kind in KINDS}     # a stop rule's name is its word in the address
# view -> {name in the address: (control id, {word: option value} for a <select>, or the scale
# of a number: "log10" for a slider that holds the exponent)}
FIELDS = {
    "digits": {
        "model": ("digits-model", {"mlp": "mnist-mlp", "cnn": "mnist-cnn"}),
        "lr": ("lr", "log10"),
        "batch": ("batch-size", None),
        "cache": ("cache-size", None),
        "stop": ("stop-rule", RULES),
        "stop_value": ("stop-value", None),
    },
    "text": {
        "model": ("text-model", {"lstm": "char-lstm", "rnn": "char-rnn"}),
        "t": ("text-temperature", None),
        "stop": ("text-stop-rule", RULES),
        "stop_value": ("text-stop-value", None),
    },
}


def kind_of(control, scale):
    """The Choice or Number a control takes, from its own attributes."""
    if isinstance(scale, dict):
        return Choice(scale)
    low, high, step = (control.getAttribute(name) for name in ("min", "max", "step"))
    low, high = float(low), float(high)
    whole = step not in (None, "any") and float(step) == int(float(step)) and low == int(low)
    if scale == "log10":
        return Number(10 ** low, 10 ** high, digits=3)
    return Number(low, high, whole=whole)


def control_value(control, scale):
    """The control's value as the setting holds it (a slider's exponent as the rate itself)."""
    if isinstance(scale, dict):
        return control.value
    raw = float(control.value)
    if scale == "log10":
        return round(10 ** raw, 6)
    return raw


def set_control(control, scale, value):
    """Put a value into a control; True if it changed (a slider snaps it to its own step)."""
    before = control.value
    if isinstance(scale, dict):
        control.value = value
    else:
        control.value = f"{math.log10(value) if scale == 'log10' else value:g}"
    return control.value != before


class Address:
    def __init__(self):
        self.controls = {view: {name: (by_id(control_id), scale) for name, (control_id, scale) in fields.items()}
                         for view, fields in FIELDS.items()}

    def kinds(self, view):
        return {name: kind_of(control, scale) for name, (control, scale) in self.controls[view].items()}

    def take(self, hash_text, notify=False):
        """Set the controls from a hash's settings; with `notify`, tell the views (input/change
        events, as a person's hand would) of every control that changed."""
        view, raw = split_hash(hash_text)
        if not raw:
            return
        if view not in self.controls:
            show_error(f"The link's settings were ignored: the {view or 'first'} view has none.")
            return
        values, ignored = read_settings(raw, self.kinds(view))
        # Every control first, then the events: a view reading two controls at once (a stop
        # rule and its value) sees the link's pair, not one new value beside an old one.
        changed = [control for name, value in values.items()
                   for control, scale in [self.controls[view][name]] if set_control(control, scale, value)]
        for control in changed if notify else ():
            event = "change" if control.tagName == "SELECT" or control.type == "number" else "input"
            control.dispatchEvent(window.Event.new(event, to_js({"bubbles": True})))
        if ignored:
            show_error("Some settings in the link were ignored, and the page's own are used instead: "
                       + "; ".join(ignored) + ".")

    def watch(self):
        """Rewrite the address whenever a view's control moves."""
        for view, controls in self.controls.items():
            for control, _ in controls.values():
                for event in ("input", "change"):
                    listen(control, event, lambda e, view=view: self.write(view), "Putting the settings in the address")

    def write(self, view):
        values = {name: control_value(control, scale) for name, (control, scale) in self.controls[view].items()}
        address = format_hash(view, write_settings(values, self.kinds(view)))
        if address != window.location.hash:
            window.history.replaceState(window.history.state, "", address)
