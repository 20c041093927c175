"""#hidden-units: the predicting model's first layer, redrawn whenever its weights change (about
once a second while training), and the activation of the unit you point at for the current input.

Hover or tap a tile, or focus the picture and use the arrow keys, to pick a unit; #hidden-unit-info
says its activation and carries data-unit and data-activation. Each picture is one RGBA array from
app.hidden_units, painted with one putImageData (never a call per pixel).
"""
import time

import numpy as np
from pyscript import window
from pyscript.ffi import create_proxy

from app.dom import by_id, guarded, listen, paint, set_data
from app.hidden_units import GREY, SIGNED, Layout, activations, columns_for, grey_levels, signed_levels, weight_tiles

GAP = {"mnist-mlp": 2, "mnist-cnn": 1}     # between weight tiles: 28x28 MLP units, 5x5 CNN filters
MAPS_GAP = 2                               # between the CNN's 24x24 feature maps
DEFAULT_WIDTH = 320                        # CSS px to lay out for while the view is hidden
KEY_STEPS = {"ArrowLeft": -1, "ArrowRight": 1}
CAPTIONS = {
    "mnist-mlp": "Each tile is one hidden unit: its weights on the 28×28 input, red where ink "
                 "excites it, blue where ink holds it back (each tile on its own scale).",
    "mnist-cnn": "Top: the first layer's 5×5 filters (red +, blue −). Below: each filter's feature "
                 "map for the current input, brighter where it responds more.",
}


class HiddenUnitsPanel:
    def __init__(self):
        self.box = by_id("hidden-units")
        self.canvases = {"weights": by_id("hidden-units-weights"), "maps": by_id("hidden-units-maps")}
        self.marks = {name: canvas.nextElementSibling for name, canvas in self.canvases.items()}
        self.info = by_id("hidden-unit-info")
        self.layouts = {}            # canvas name -> Layout of the picture on it
        self.model = None
        self.x = None                # the current input (784,), or None with an empty grid
        self.values = None           # each unit's activation for self.x, once a unit asks for it
        self.shown_none = False      # the panel shows that no unit is pointed at (it stays so as you draw)
        self.unit = None             # the unit pointed at
        self.version = 0
        self.width = 0               # the CSS width laid out for
        for name, canvas in self.canvases.items():
            for event_name in ("pointermove", "pointerdown"):
                listen(canvas, event_name, lambda event, name=name: self.point(name, event), "Picking a hidden unit")
            listen(canvas, "keydown", self.on_key, "Picking a hidden unit")
        # Columns follow the panel's width: on a resize, and when the view is first shown.
        self.on_resize = create_proxy(guarded(lambda entries, observer: self.fit(), "Laying out the hidden units"))
        window.ResizeObserver.new(self.on_resize).observe(self.box)

    def fit(self):
        width = self.box.clientWidth
        if width and width != self.width and self.model is not None:
            self.width = width
            if columns_for(width, self.layouts["weights"].units) != self.layouts["weights"].columns:
                self.show_model(self.model)
                self.show_input(self.x)

    # -- pictures ---------------------------------------------------------------------------
    def show_model(self, model):
        """Redraw the weight tiles of `model` (data-version counts the redraws)."""
        start = time.perf_counter()
        kind_changed = self.model is None or self.model.KIND != model.KIND
        self.model, self.values = model, None       # the activations are the new model's, when asked
        self.width = self.box.clientWidth or self.width or DEFAULT_WIDTH
        tiles = weight_tiles(model)
        layout = Layout(len(tiles), tiles.shape[1], tiles.shape[2], columns_for(self.width, len(tiles)), GAP[model.KIND])
        self.put("weights", layout, signed_levels(tiles), SIGNED)
        if kind_changed:
            by_id("hidden-units-caption").textContent = CAPTIONS[model.KIND]
            self.canvases["maps"].parentElement.hidden = model.KIND != "mnist-cnn"
        if self.unit is not None and (kind_changed or self.unit >= layout.units):
            self.unit = None
        self.version += 1
        set_data(self.box, version=self.version, kind=model.KIND, draw_ms=f"{1000 * (time.perf_counter() - start):.2f}")

    def show_input(self, x784):
        """The activations (and the CNN's feature maps) for the model's current input. The MLP's
        activations are worked out only once a unit is pointed at: live drawing calls this on
        every frame, and with no unit chosen nothing here shows them."""
        self.x, self.values = x784, None
        if self.model is None:
            return
        if self.model.KIND == "mnist-cnn":
            if x784 is not None:
                self.values, maps = activations(self.model, x784)
            else:
                maps = np.zeros((self.layouts["weights"].units, 24, 24))
            weights = self.layouts["weights"]
            self.put("maps", Layout(len(maps), maps.shape[1], maps.shape[2], weights.columns, MAPS_GAP), grey_levels(maps), GREY)
        self.show_unit()

    def unit_values(self):
        """Each unit's activation for the current input, or None with none."""
        if self.values is None and self.x is not None:
            self.values, _ = activations(self.model, self.x)
        return self.values

    def put(self, name, layout, levels, colours):
        canvas = self.canvases[name]
        paint(canvas, layout.mosaic(levels, colours))
        self.layouts[name] = layout
        set_data(canvas, units=layout.units, columns=layout.columns, tile_width=layout.tile_w,
                 tile_height=layout.tile_h, gap=layout.gap)

    # -- the unit pointed at ------------------------------------------------------------------
    def point(self, name, event):
        layout = self.layouts.get(name)
        if layout is None:
            return
        canvas = self.canvases[name]
        box = canvas.getBoundingClientRect()
        if not box.width or not box.height:
            return
        unit = layout.unit_at((event.clientX - box.left) * canvas.width / box.width,
                              (event.clientY - box.top) * canvas.height / box.height)
        if unit is not None and unit != self.unit:
            self.unit = unit
            self.show_unit()

    def on_key(self, event):
        layout = self.layouts.get("weights")
        if layout is None:
            return
        steps = dict(KEY_STEPS, ArrowUp=-layout.columns, ArrowDown=layout.columns)
        if event.key not in steps and event.key not in ("Home", "End"):
            return
        event.preventDefault()        # the arrows move the choice, not the page
        last = layout.units - 1
        unit = {"Home": 0, "End": last}.get(event.key)
        if unit is None:
            unit = 0 if self.unit is None else min(last, max(0, self.unit + steps[event.key]))
        self.unit = unit
        self.show_unit()

    def show_unit(self):
        """#hidden-unit-info and the marks on the tiles, for the unit pointed at."""
        model, unit = self.model, self.unit
        if model is None or unit is None:
            if self.shown_none:
                return
            self.shown_none = True
            for mark in self.marks.values():
                mark.hidden = True
            set_data(self.info, unit="", activation="")
            self.info.textContent = "Point at a tile (or focus the picture and use the arrow keys) to see its activation."
            return
        self.shown_none = False
        for name, mark in self.marks.items():
            layout = self.layouts.get(name)
            if layout is None or (name == "maps" and model.KIND != "mnist-cnn"):
                mark.hidden = True
                continue
            x, y = layout.origin(unit)
            style = mark.style
            style.left, style.top = f"{100 * x / layout.width:.3f}%", f"{100 * y / layout.height:.3f}%"
            style.width, style.height = f"{100 * layout.tile_w / layout.width:.3f}%", f"{100 * layout.tile_h / layout.height:.3f}%"
            mark.hidden = False
        what = f"Unit {unit}" if model.KIND == "mnist-mlp" else f"Filter {unit}"
        values = self.unit_values()
        if values is None:
            set_data(self.info, unit=unit, activation="")
            self.info.textContent = f"{what}: draw a digit (or pick one below) to see its activation."
            return
        value = float(values[unit])
        set_data(self.info, unit=unit, activation=repr(value))
        self.info.textContent = (f"{what}: activation {value:.3f} for this input." if model.KIND == "mnist-mlp" else
                                 f"{what}: strongest response {value:.3f} in its feature map for this input.")
