"""app/canvas_ink.py: the copy of the canvas's ink stays equal to the canvas, reading back only
what strokes changed."""
import numpy as np

from app.canvas_ink import CanvasInk, union

SIDE, REACH = 280, 29


class Canvas:
    """A stand-in for the drawing canvas: strokes paint discs along their line, reads are counted."""

    def __init__(self):
        self.red = np.zeros((SIDE, SIDE), np.uint8)
        self.read_areas = []

    def stroke(self, start, end, radius, level):
        yy, xx = np.mgrid[0:SIDE, 0:SIDE]
        for t in np.linspace(0, 1, 12):
            x, y = start[0] + t * (end[0] - start[0]), start[1] + t * (end[1] - start[1])
            disc = (xx - x) ** 2 + (yy - y) ** 2 <= radius ** 2
            self.red[disc] = np.maximum(self.red[disc], level)

    def rgba_of(self, left, top, width, height):
        self.read_areas.append(width * height)
        rgba = np.zeros((height, width, 4), np.uint8)
        rgba[..., 0] = self.red[top:top + height, left:left + width]
        rgba[..., 1:3] = 7                                 # not red: must not leak into the ink
        rgba[..., 3] = 255
        return rgba.tobytes()


def ink_box(red):
    rows, cols = np.flatnonzero(red.any(axis=1)), np.flatnonzero(red.any(axis=0))
    return rows[0], rows[-1] + 1, cols[0], cols[-1] + 1


def test_the_copy_equals_the_canvas_after_every_frame_and_reads_only_what_changed():
    rng = np.random.default_rng(5)
    canvas, ink = Canvas(), CanvasInk(SIDE, REACH)
    assert ink.read(canvas.rgba_of).shape == (0, 0) and canvas.read_areas == []
    point = (140.0, 140.0)
    for frame in range(80):
        for _ in range(rng.integers(1, 4)):                # a few pointer moves per frame
            step = rng.normal(0, 9, 2)
            end = (float(np.clip(point[0] + step[0], -40, SIDE + 40)), float(np.clip(point[1] + step[1], -40, SIDE + 40)))
            canvas.stroke(point, end, radius=REACH - 2, level=int(rng.integers(1, 256)))
            ink.stroke(point, end)
            point = end
        got = ink.read(canvas.rgba_of)
        left, top, right, bottom = ink.box
        r0, r1, c0, c1 = ink_box(canvas.red)
        assert top <= r0 and r1 <= bottom and left <= c0 and c1 <= right     # the box holds all ink
        assert np.array_equal(got, canvas.red[top:bottom, left:right] * np.float32(1 / 255))
        if frame == 40:
            canvas.red[:] = 0
            ink.clear()
            point = (60.0, 200.0)
    assert max(canvas.read_areas[1:]) < SIDE * SIDE / 4     # each frame read its strokes' box only


def test_changed_all_rereads_the_whole_canvas_and_off_canvas_strokes_change_nothing():
    canvas, ink = Canvas(), CanvasInk(SIDE, REACH)
    canvas.red[100:180, 120:130] = 200                      # a digit drawn in whole
    ink.changed_all()
    assert np.array_equal(ink.read(canvas.rgba_of), canvas.red * np.float32(1 / 255))
    before = len(canvas.read_areas)
    ink.stroke((SIDE + 50, 10), (SIDE + 60, 20))            # the captured pen, far off the grid
    ink.read(canvas.rgba_of)
    assert len(canvas.read_areas) == before


def test_union():
    assert union(None, None) is None and union((1, 2, 3, 4), None) == (1, 2, 3, 4)
    assert union((1, 5, 3, 9), (0, 6, 8, 7)) == (0, 5, 8, 9)
