"""Live line charts, drawn by the vendored uPlot (small, fast, and made for streaming data).

The charts are optional: when uPlot did not load (a 404, a script that threw, a broken
build) or throws when called, a chart shows its latest figure as a line of text instead, and
#errors says once what is missing and that everything else still works.
"""
from pyscript import window
from pyscript.ffi import to_js

from app.dom import by_id
from app.errors import show_error

HEIGHT = 180
_reported = False     # the charts' failure is said once for the page, not once per chart


def report_charts_missing(why):
    global _reported
    if not _reported:
        _reported = True
        show_error(f"Charts are unavailable: {why}. Everything else still works (the game, drawing "
                   "and prediction, training, writing); the charts' latest figures show as text.")


class LineChart:
    def __init__(self, element_id, label, color, y_range=None):
        self.element = by_id(element_id)
        self.label = label
        self.shown = None
        self.plot = None
        y_scale = {"auto": True} if y_range is None else {"auto": False, "range": list(y_range)}
        axis_values = getattr(window, "falkenNumbers", None)
        axis_values = {"values": axis_values.axis} if axis_values else {}
        options = {
            "width": self.width(), "height": HEIGHT, "legend": {"show": False},
            "scales": {"x": {"time": False}, "y": y_scale},
            "series": [{"label": "step"}, {"label": label, "stroke": color, "width": 2}],
            "axes": [{"label": "step", "size": 36, **axis_values}, {"size": 48, **axis_values}],
        }
        uplot = getattr(window, "uPlot", None)
        if not uplot:
            self.fail("the chart library (static/vendor/uplot/uPlot.iife.min.js) did not load")
            return
        try:
            self.plot = uplot.new(to_js(options), to_js([[], []]), self.element)
        except Exception as error:
            self.fail(f"the chart library failed ({error})")

    def width(self):
        return max(200, int(self.element.parentElement.clientWidth or 320))

    def fail(self, why):
        self.plot = None
        self.element.classList.add("chart-text")
        self.element.textContent = f"{self.label}: no figures yet"
        report_charts_missing(why)

    def show(self, points):
        """Redraw with [(x, y), …] (only when there is something new)."""
        key = (len(points), tuple(points[-1]) if points else None)
        if key == self.shown:
            return
        self.shown = key
        if self.plot is not None:
            try:
                self.plot.setData(to_js([[p[0] for p in points], [p[1] for p in points]]))
                return
            except Exception as error:
                self.fail(f"the chart library failed ({error})")
        if points:
            x, y = points[-1]
            self.element.textContent = f"{self.label}: {y:,.4g} at step {x:,}"

    def fit(self):
        if self.plot is not None:
            try:
                self.plot.setSize(to_js({"width": self.width(), "height": HEIGHT}))
            except Exception as error:
                self.fail(f"the chart library failed ({error})")
