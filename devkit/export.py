"""Dev kit: export a knowledge file to ONNX.

    python -m devkit.export knowledge/digits.npz digits.onnx

Built with the `onnx` package's helper API and checked with its checker; tests run the result
in onnxruntime against Falken's own outputs. One small function per model kind (EXPORTERS)
turns the model into graph nodes + weights; adding a kind is one more such function.

What each graph takes and gives (N = batch, T = sequence length):
  mnist-mlp       x float (N, 784) in [0, 1]                 -> probabilities (N, 10)
  mnist-cnn       x float (N, 784) in [0, 1]                 -> probabilities (N, 10)
  tictactoe-lstm  x float (T, N, 19) one-hot moves (models.ttt_player.encode), legal bool (N, 9)
                                                             -> probabilities (N, 9), 0 on taken cells
  char-rnn        ids int64 (T, N) (the vocabulary is in the metadata), h0 float (1, N, H)
                  -> probabilities (T, N, V) of the next character after each one, h (1, N, H)
"""
import argparse
import json
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from models import knowledge

OPSET = 21          # onnxruntime 1.32 runs it; newer opsets change nothing these graphs use
IR_VERSION = 10     # the IR that goes with opset 21
PRODUCER = "falken devkit.export"


def _input(name, elem, shape):
    return helper.make_tensor_value_info(name, elem, shape)


def _weights(**arrays):
    return [numpy_helper.from_array(np.ascontiguousarray(a, np.float32), name)
            for name, a in arrays.items()]


def _constant(name, values, dtype=np.int64):
    return numpy_helper.from_array(np.asarray(values, dtype), name)


# one function per kind: model -> (nodes, inputs, outputs, initializers) ---------------------
def mlp_graph(model):
    """models/mlp.py: softmax(relu(x W1 + b1) W2 + b2); predict_proba takes x as it is."""
    p = model.params
    nodes = [helper.make_node("Gemm", ["x", "W1", "b1"], ["a1"]),
             helper.make_node("Relu", ["a1"], ["h"]),
             helper.make_node("Gemm", ["h", "W2", "b2"], ["logits"]),
             helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1)]
    inputs = [_input("x", TensorProto.FLOAT, ["N", 784])]
    outputs = [_input("probabilities", TensorProto.FLOAT, ["N", 10])]
    return nodes, inputs, outputs, _weights(W1=p["W1"], b1=p["b1"], W2=p["W2"], b2=p["b2"])


def cnn_graph(model):
    """models/cnn.py: (conv 5x5 -> 2x2 max-pool -> ReLU) twice, dense to 10, softmax.
    Falken works in NHWC with (kh, kw, c_in, c_out) kernels and flattens (h, w, c); ONNX's
    Conv is NCHW with (c_out, c_in, kh, kw): both are cross-correlations, so the kernels only
    change axes, and the image goes NHWC -> NCHW in and back before the flatten."""
    p = model.params
    nodes = [helper.make_node("Reshape", ["x", "nhwc_shape"], ["nhwc"]),
             helper.make_node("Transpose", ["nhwc"], ["nchw"], perm=[0, 3, 1, 2])]
    feed = "nchw"
    for layer in ("1", "2"):
        nodes += [helper.make_node("Conv", [feed, "K" + layer, "b" + layer], ["z" + layer]),
                  helper.make_node("MaxPool", ["z" + layer], ["m" + layer],
                                   kernel_shape=[2, 2], strides=[2, 2]),
                  helper.make_node("Relu", ["m" + layer], ["a" + layer])]
        feed = "a" + layer
    nodes += [helper.make_node("Transpose", [feed], ["a2_nhwc"], perm=[0, 2, 3, 1]),
              helper.make_node("Reshape", ["a2_nhwc", "flat_shape"], ["a2_flat"]),
              helper.make_node("Gemm", ["a2_flat", "W3", "b3"], ["logits"]),
              helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1)]
    inputs = [_input("x", TensorProto.FLOAT, ["N", 784])]
    outputs = [_input("probabilities", TensorProto.FLOAT, ["N", 10])]
    inits = _weights(K1=p["K1"].transpose(3, 2, 0, 1), b1=p["b1"],
                     K2=p["K2"].transpose(3, 2, 0, 1), b2=p["b2"], W3=p["W3"], b3=p["b3"])
    return nodes, inputs, outputs, inits + [_constant("nhwc_shape", [-1, 28, 28, 1]),
                                            _constant("flat_shape", [-1, p["W3"].shape[0]])]


def _onnx_gates(w):
    """Falken fuses the LSTM gates as [input | forget | output | candidate] along the last
    axis of (D, 4H) weights used as x @ W; ONNX wants [input | output | forget | cell] along
    the first axis of (4H, D) used as x @ W^T. Same sigmoid/tanh/tanh and no extra forget
    bias in both (Falken's forget bias of 1 is only its initial value, stored in b)."""
    i, f, o, c = np.split(w, 4, axis=-1)
    return np.concatenate([i, o, f, c], axis=-1).T


def ttt_lstm_graph(model):
    """models/ttt_player.py: LSTM over the encoded history, last hidden state -> 9 logits,
    taken cells masked out before the softmax."""
    p = model.params
    H = p["Wh"].shape[0]
    b = _onnx_gates(p["b"][None, :])[:, 0]
    nodes = [helper.make_node("LSTM", ["x", "W", "R", "B"], ["", "h_last"], hidden_size=H),
             helper.make_node("Squeeze", ["h_last", "axis0"], ["h"]),
             helper.make_node("Gemm", ["h", "Wy", "by"], ["logits"]),
             helper.make_node("Where", ["legal", "logits", "minus_inf"], ["masked"]),
             helper.make_node("Softmax", ["masked"], ["probabilities"], axis=1)]
    inputs = [_input("x", TensorProto.FLOAT, ["T", "N", 19]),
              _input("legal", TensorProto.BOOL, ["N", 9])]
    outputs = [_input("probabilities", TensorProto.FLOAT, ["N", 9])]
    inits = _weights(W=_onnx_gates(p["Wx"])[None], R=_onnx_gates(p["Wh"])[None],
                     B=np.concatenate([b, np.zeros_like(b)])[None],   # ONNX adds Wb + Rb
                     Wy=p["Wy"], by=p["by"], minus_inf=np.float32(-np.inf))
    return nodes, inputs, outputs, inits + [_constant("axis0", [0])]


def char_rnn_graph(model):
    """models/charrnn.py + models/rnn.py: h_t = tanh(Wx[id_t] + h_{t-1} Wh + b) (ONNX RNN's
    default tanh; the row lookup is a one-hot times Wx), then softmax(h_t Wy + by) per step."""
    p = model.params
    V, H = p["Wx"].shape
    nodes = [helper.make_node("OneHot", ["ids", "depth", "off_on"], ["x"], axis=-1),
             helper.make_node("RNN", ["x", "W", "R", "B", "", "h0"], ["hs4", "h"], hidden_size=H),
             helper.make_node("Squeeze", ["hs4", "axis1"], ["hs"]),
             helper.make_node("MatMul", ["hs", "Wy"], ["hWy"]),
             helper.make_node("Add", ["hWy", "by"], ["logits"]),
             helper.make_node("Softmax", ["logits"], ["probabilities"], axis=-1)]
    inputs = [_input("ids", TensorProto.INT64, ["T", "N"]),
              _input("h0", TensorProto.FLOAT, [1, "N", H])]
    outputs = [_input("probabilities", TensorProto.FLOAT, ["T", "N", V]),
               _input("h", TensorProto.FLOAT, [1, "N", H])]
    inits = _weights(W=p["Wx"].T[None], R=p["Wh"].T[None],
                     B=np.concatenate([p["b"], np.zeros_like(p["b"])])[None],
                     Wy=p["Wy"], by=p["by"], off_on=np.array([0, 1]))
    return nodes, inputs, outputs, inits + [_constant("depth", [V]), _constant("axis1", [1])]


EXPORTERS = {"mnist-mlp": mlp_graph, "mnist-cnn": cnn_graph, "tictactoe-lstm": ttt_lstm_graph,
             "char-rnn": char_rnn_graph}


class ExportError(Exception):
    """The model cannot be exported; str(e) says why."""


def to_onnx(model):
    """The checked ONNX ModelProto of a loaded Falken model."""
    kind = model.KIND
    if kind not in EXPORTERS:
        raise ExportError(f"kind {kind!r} has no ONNX export (exportable: {', '.join(sorted(EXPORTERS))})")
    nodes, inputs, outputs, inits = EXPORTERS[kind](model)
    graph = helper.make_graph(nodes, kind, inputs, outputs, inits, doc_string=__doc__)
    onnx_model = helper.make_model(graph, producer_name=PRODUCER, ir_version=IR_VERSION,
                                   opset_imports=[helper.make_opsetid("", OPSET)])
    meta = getattr(model, "knowledge_meta", None) or {"kind": kind, "hyper": model.hyper,
                                                      "metrics": model.metrics}
    meta = {k: v for k, v in meta.items() if k != "shapes"}     # char-rnn's vocab stays
    helper.set_model_props(onnx_model, {"falken_kind": kind, "falken_meta": json.dumps(meta, sort_keys=True)})
    onnx.checker.check_model(onnx_model, full_check=True)
    return onnx_model


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m devkit.export", description=__doc__.split("\n")[0])
    ap.add_argument("file", help="knowledge file (.npz)")
    ap.add_argument("out", help="ONNX file to write (.onnx)")
    args = ap.parse_args(argv)
    try:
        model = knowledge.load(args.file)
        onnx_model = to_onnx(model)
    except (knowledge.KnowledgeError, ExportError) as e:
        sys.exit(f"{args.file}: {e}")
    try:
        onnx.save(onnx_model, args.out)
    except OSError as e:
        sys.exit(f"{args.out}: cannot write it: {e.strerror or e}")
    size = len(onnx_model.SerializeToString())
    print(f"wrote {args.out}: {model.KIND}, opset {OPSET}, {len(onnx_model.graph.node)} nodes, "
          f"{size:,} bytes")


if __name__ == "__main__":
    main()
