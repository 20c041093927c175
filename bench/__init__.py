"""`make bench`: Falken's speed, size and smoothness, measured against DESIGN.md §4 and PyTorch.

    .venv/bin/python -m bench [--runs 5] [--part native|browser|all] [--compare OLD.json]

Writes build/bench/results.json and build/bench/results.md. Not part of `make test`.
"""
