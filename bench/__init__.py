"""`make bench`: Falken's speed, size and smoothness, measured against DESIGN.md §4, PyTorch, and
the in-browser peers TensorFlow.js and ConvNetJS (bench/peers.py).

    .venv/bin/python -m bench [--runs 5] [--part all|native|browser|engines|peers] [--compare OLD.json]

Writes build/bench/results.json and build/bench/results.md. Not part of `make test`.
"""
