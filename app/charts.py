"""Live line charts, drawn by the vendored uPlot (small, fast, and made for streaming data).

The charts are optional: when uPlot did not load (a 404, a script that threw, a broken
build) or throws when called, a chart shows its latest figure as a line of text instead, and
#errors says once what is missing and that everything else still works.
"""
from pyscript import window
from pyscript.ffi import to_js

from app.dom import by_id, set_data
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
        self.y_range = y_range
        self.shown = None
        self.plot = None
        self.overlay = None      # [(label, color, width), …] of the curves show_overlay drew last
        if not getattr(window, "uPlot", None):
            self.fail("the chart library (static/vendor/uplot/uPlot.iife.min.js) did not load")
            return
        try:
            self.plot = self.new_plot([{"label": label, "stroke": color, "width": 2}], to_js([[], []]))
        except Exception as error:
            self.fail(f"the chart library failed ({error})")

    def new_plot(self, series, data):
        y_scale = {"auto": True} if self.y_range is None else {"auto": False, "range": list(self.y_range)}
        axis_values = getattr(window, "falkenNumbers", None)
        axis_values = {"values": axis_values.axis} if axis_values else {}
        options = {
            "width": self.width(), "height": HEIGHT, "legend": {"show": False},
            "scales": {"x": {"time": False}, "y": y_scale},
            "series": [{"label": "step"}, *series],
            "axes": [{"label": "step", "size": 36, **axis_values}, {"size": 48, **axis_values}],
        }
        return window.uPlot.new(to_js(options), data, self.element)

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

    def show_overlay(self, curves):
        """Several curves on one pair of axes, each over its own steps: [(label, color, width,
        points), …] (the Digits run comparison). The plot is rebuilt when the curves shown change;
        #element's data-series says how many the plot holds."""
        key = [(label, color, width, len(points), tuple(points[-1]) if points else None)
               for label, color, width, points in curves]
        if key == self.shown:
            return
        self.shown = key
        overlay = [(label, color, width) for label, color, width, _ in curves]
        if self.plot is not None:
            try:
                # uPlot takes one x array for every series: join merges the curves' steps, leaving
                # gaps (spanned) where a curve has no point.
                tables = [[[p[0] for p in points], [p[1] for p in points]] for *_, points in curves]
                data = window.uPlot.join(to_js(tables)) if tables else to_js([[]])
                if overlay != self.overlay:
                    self.plot.destroy()
                    self.plot = self.new_plot([{"label": label, "stroke": color, "width": width, "spanGaps": True}
                                               for label, color, width in overlay], data)
                else:
                    self.plot.setData(data)
                self.overlay = overlay
                set_data(self.element, series=self.plot.series.length - 1)
                return
            except Exception as error:
                self.fail(f"the chart library failed ({error})")
        self.overlay = overlay
        set_data(self.element, series=len(curves))
        lines = [f"{self.label}: {points[-1][1]:,.4g} at step {points[-1][0]:,} ({label})"
                 for label, _, _, points in curves if points]
        self.element.textContent = "\n".join(lines) or f"{self.label}: no figures yet"

    def fit(self):
        if self.plot is not None:
            try:
                self.plot.setSize(to_js({"width": self.width(), "height": HEIGHT}))
            except Exception as error:
                self.fail(f"the chart library failed ({error})")
