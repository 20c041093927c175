"""What the digits net sees: its exact 28x28 input, painted on #digits-input (shown enlarged).

The pixels come from the very array the model is given (models.preprocess.drawing_to_mnist), so
the picture can not drift from the input: a pixel's grey level is its value, white ink on black.
"""
import numpy as np

SIDE = 28      # MNIST field (models/preprocess.py)


def input_rgba(x784):
    """(784,) values in [0, 1] -> (28*28*4,) uint8 RGBA bytes: grey = round(255 * value), opaque.
    (N, 784) gives the N pictures stacked: a 28-wide, 28N-high strip."""
    x = np.asarray(x784, np.float64).reshape(-1)
    grey = np.rint(np.clip(x, 0, 1) * 255).astype(np.uint8)
    rgba = np.empty((x.size, 4), np.uint8)
    rgba[:, :3] = grey[:, None]
    rgba[:, 3] = 255
    return rgba.reshape(-1)


def show_input(canvas, x784):
    """Paint the model's input on `canvas` (28x28 pixels; CSS enlarges it, pixelated); None
    paints the empty input. Returns x784, so the caller can hand the same array to the model."""
    from app.dom import image_data    # here, so the pixel conversion above also runs in CPython

    rgba = input_rgba(np.zeros(SIDE * SIDE) if x784 is None else x784)
    canvas.getContext("2d").putImageData(image_data(rgba, SIDE), 0, 0)
    return x784
