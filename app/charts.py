"""Live line charts, drawn by the vendored uPlot (small, fast, and made for streaming data)."""
from pyscript import window
from pyscript.ffi import to_js

from app.dom import by_id

HEIGHT = 180


class LineChart:
    def __init__(self, element_id, label, color, y_range=None):
        self.element = by_id(element_id)
        y_scale = {"auto": True} if y_range is None else {"auto": False, "range": list(y_range)}
        options = {
            "width": self.width(), "height": HEIGHT, "legend": {"show": False},
            "scales": {"x": {"time": False}, "y": y_scale},
            "series": [{"label": "step"}, {"label": label, "stroke": color, "width": 2}],
            "axes": [{"label": "step", "size": 36}, {"size": 48}],
        }
        self.plot = window.uPlot.new(to_js(options), to_js([[], []]), self.element)
        self.shown = None

    def width(self):
        return max(200, int(self.element.parentElement.clientWidth or 320))

    def show(self, points):
        """Redraw with [(x, y), …] (only when there is something new)."""
        key = (len(points), tuple(points[-1]) if points else None)
        if key == self.shown:
            return
        self.shown = key
        xs = [p[0] for p in points]
        ys = [p[1] for p in points]
        self.plot.setData(to_js([xs, ys]))

    def fit(self):
        self.plot.setSize(to_js({"width": self.width(), "height": HEIGHT}))
