"""The drawing canvas's ink as a float array, read back from the canvas only where strokes changed it.

Live prediction needs the canvas's pixels on every animation frame. Reading the whole box of the
ink (getImageData, then the bytes into Pyodide and into floats) was a fifth of a frame's work,
yet one frame's pointer moves change only the few pixels around their stroke. So this keeps a
copy of the canvas's red channel (white ink on black: red alone will do) and, when asked for the
ink, reads back only the box the strokes since the last read could have reached.

Plain numpy: the view hands read() a function that returns a box's RGBA bytes, so CPython tests
drive it with a canvas of their own.
"""
import math

import numpy as np


def union(a, b):
    """The smallest (left, top, right, bottom) box holding boxes a and b; None is no box."""
    if a is None or b is None:
        return b if a is None else a
    return min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])


class CanvasInk:
    def __init__(self, side, reach):
        self.side = side          # the square canvas's width and height, in pixels
        self.reach = reach        # how far from a stroke's line its ink can reach (pen + soft edge)
        self.pixels = np.zeros((side, side), np.float32)    # the canvas's red channel / 255
        self.box = None           # (left, top, right, bottom) holding all the canvas's ink
        self.unread = None        # the box strokes changed since the last read

    def clear(self):
        """The canvas was painted black."""
        self.pixels[:] = 0
        self.box = self.unread = None

    def changed_all(self):
        """Something was drawn over the whole canvas (a held-out digit, enlarged)."""
        self.box = self.unread = (0, 0, self.side, self.side)

    def stroke(self, *points):
        """A stroke through these canvas points was drawn."""
        xs, ys = [x for x, _ in points], [y for _, y in points]
        r, side = self.reach, self.side
        reached = (max(0, math.floor(min(xs) - r)), max(0, math.floor(min(ys) - r)),
                   min(side, math.ceil(max(xs) + r)), min(side, math.ceil(max(ys) + r)))
        if reached[0] >= reached[2] or reached[1] >= reached[3]:
            return                                     # wholly off the canvas
        self.box, self.unread = union(self.box, reached), union(self.unread, reached)

    def read(self, rgba_of):
        """The ink's box of the canvas as float32 in [0, 1], (0, 0) when nothing is drawn.

        rgba_of(left, top, width, height) -> that box's RGBA bytes, row by row. The array
        returned is a view of this copy: valid until the next stroke or clear."""
        if self.unread is not None:
            left, top, right, bottom = self.unread
            rgba = rgba_of(left, top, right - left, bottom - top)
            red = np.frombuffer(rgba, np.uint8)[0::4].reshape(bottom - top, right - left)
            np.multiply(red, np.float32(1 / 255), out=self.pixels[top:bottom, left:right])
            self.unread = None
        if self.box is None:
            return np.zeros((0, 0), np.float32)
        left, top, right, bottom = self.box
        return self.pixels[top:bottom, left:right]
