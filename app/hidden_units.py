"""Pictures of a digits net's first layer, in pure numpy (CPython tests them; the page paints them).

The MLP's hidden unit u is a 28x28 tile of its weights W1[:, u]; the CNN's filter u is a 5x5 tile
of K1[..., 0, u], and its feature map for a drawing a 24x24 tile. Signed weights are coloured
red (+) / white (0) / blue (-), each tile scaled by its own largest |weight|, so red - blue is
255 x weight / scale and the picture reads back to the numbers. Feature maps are grey levels of
one shared scale, so a strong filter looks brighter than a weak one. Tiles sit in a mosaic: a
grid of `columns` with `gap` background pixels between them, painted with one putImageData.
Values become palette levels first and colours in one lookup at the end: in Pyodide that is
several times faster than computing each RGBA channel of every pixel.
"""
import numpy as np

GAP_RGBA = (154, 163, 181, 255)   # between tiles: a grey no weight colour takes
TILE_CSS_PX = 40                  # the mosaic takes as many columns as tiles this wide fit
MAX_COLUMNS = 16


def weight_tiles(model):
    """The first layer as (units, h, w) weights: one tile per hidden unit or conv filter."""
    if model.KIND == "mnist-mlp":
        return model.params["W1"].T.reshape(-1, 28, 28)
    return model.params["K1"][:, :, 0, :].transpose(2, 0, 1)


def activations(model, x784):
    """Each unit's activation for one input: the MLP's hidden ReLUs, or the CNN's feature maps
    (units, 24, 24) and each map's strongest response. Returns (per-unit values, maps or None)."""
    if model.KIND == "mnist-mlp":
        return model.hidden(x784[None, :])[0], None
    maps = model.feature_maps(x784[None, :])[0].transpose(2, 0, 1)
    return maps.max(axis=(1, 2)), maps


def signed_levels(tiles):
    """(n, h, w) weights -> (n, h, w) uint16 levels 0..510 of SIGNED: 255 + 255 x weight / the
    tile's largest |weight| (so 0 is white, 510 pure red, 0 pure blue)."""
    tiles = np.ascontiguousarray(tiles, np.float32)       # the MLP's are a strided view of W1
    flat = tiles.reshape(len(tiles), -1)
    scale = np.maximum(flat.max(axis=1), -flat.min(axis=1))[:, None]
    scale[scale == 0] = 1
    levels = flat * (255 / scale)                          # in place from here: few passes, no temporaries
    levels += 255.5                                        # + 0.5 and truncation rounds (levels >= 0)
    return levels.astype(np.uint16).reshape(tiles.shape)


def grey_levels(maps):
    """(n, h, w) non-negative values -> (n, h, w) uint16 levels 0..255 of GREY, 255 at the
    largest of them all (one scale for every map)."""
    maps = np.asarray(maps, np.float32)
    top = float(maps.max()) if maps.size else 0.0
    levels = maps * (255 / (top if top > 0 else 1))
    levels += 0.5
    return levels.astype(np.uint16)


def palette(colours):
    """(levels, 4) uint8 RGBA with GAP_RGBA appended: the mosaic's gaps take the last index."""
    return np.concatenate([np.asarray(colours, np.uint8), np.array([GAP_RGBA], np.uint8)])


def _signed_colours():
    level = np.arange(511)
    fade = 255 - np.abs(level - 255)                                 # white at 255, 0 at either end
    colours = np.empty((511, 4), np.uint8)
    colours[:, 0] = np.where(level >= 255, 255, fade)
    colours[:, 1] = fade
    colours[:, 2] = np.where(level >= 255, fade, 255)
    colours[:, 3] = 255
    return colours


SIGNED = palette(_signed_colours())       # red - blue = level - 255
GREY = palette(np.repeat(np.arange(256, dtype=np.uint8)[:, None], 4, axis=1) | np.array([0, 0, 0, 255], np.uint8))


def columns_for(width_css_px, units):
    """How many tiles a row of a mosaic shown `width_css_px` wide holds."""
    return int(max(1, min(units, MAX_COLUMNS, width_css_px // TILE_CSS_PX)))


class Layout:
    """Where each tile of a mosaic lies, in canvas pixels."""

    def __init__(self, units, tile_h, tile_w, columns, gap):
        self.units, self.tile_h, self.tile_w, self.columns, self.gap = units, tile_h, tile_w, columns, gap
        self.rows = -(-units // columns)
        self.width = columns * (tile_w + gap) - gap
        self.height = self.rows * (tile_h + gap) - gap

    def origin(self, unit):
        """The (x, y) of a tile's top-left pixel."""
        row, column = divmod(unit, self.columns)
        return column * (self.tile_w + self.gap), row * (self.tile_h + self.gap)

    def unit_at(self, x, y):
        """The unit whose tile holds canvas pixel (x, y); a gap counts as the tile before it, so a
        pointer never falls between units. None outside the tiles."""
        if not (0 <= x < self.width and 0 <= y < self.height):
            return None
        unit = int(y // (self.tile_h + self.gap)) * self.columns + int(x // (self.tile_w + self.gap))
        return unit if unit < self.units else None

    def mosaic(self, levels, colours):
        """(units, h, w) levels -> the (height, width, 4) uint8 picture in `colours` (a palette):
        the tiles are laid out as indices, then coloured in one lookup, never a loop per tile."""
        pitch_h, pitch_w = self.tile_h + self.gap, self.tile_w + self.gap
        gap = len(colours) - 1
        grid = np.full((self.rows, pitch_h, self.columns, pitch_w), gap, np.uint16)
        padded = np.full((self.rows * self.columns, self.tile_h, self.tile_w), gap, np.uint16)
        padded[:self.units] = levels
        grid[:, :self.tile_h, :, :self.tile_w] = (
            padded.reshape(self.rows, self.columns, self.tile_h, self.tile_w).transpose(0, 2, 1, 3))
        index = grid.reshape(self.rows * pitch_h, self.columns * pitch_w)[:self.height, :self.width]
        # One RGBA pixel is one uint32: a single gather gives the picture, contiguous.
        rgba = np.ascontiguousarray(colours).view(np.uint32).reshape(-1).take(index)
        return rgba.view(np.uint8).reshape(self.height, self.width, 4)
