"""Figures: every measurement is a list of runs summarised as median with min–max."""
import statistics


def summary(values):
    values = [float(v) for v in values]
    if not values:
        return {"median": None, "min": None, "max": None, "runs": 0, "values": []}
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "runs": len(values), "values": values}


def percentile(values, q):
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


def figure(fid, group, label, unit, values, better="higher", target=None, note=""):
    """One row of the results.

    `target` is (op, value, text) or (op, value, text, on) from DESIGN.md §4, judged on the
    median unless `on` says "max" (every run must meet it, e.g. "0 long tasks")."""
    out = {"id": fid, "group": group, "label": label, "unit": unit, "better": better, "note": note}
    out.update(summary(values))
    if target is not None:
        op, value, text, *rest = target
        on = rest[0] if rest else "median"
        out["target"] = {"op": op, "value": value, "text": text, "on": on}
        out["met"] = met(op, value, out[on])
    return out


def met(op, value, median):
    if median is None:
        return None
    return {">=": median >= value, "<=": median <= value, "<": median < value, ">": median > value,
            "==": median == value}[op]


def ratio_figure(fid, group, label, falken, reference, target=None, note=""):
    """Falken ÷ reference (two figures or summaries): the ratio of medians, min–max from the runs' extremes."""
    out = figure(fid, group, label, "ratio", [falken["median"] / reference["median"]], target=target, note=note)
    out.update(min=falken["min"] / reference["max"], max=falken["max"] / reference["min"], runs=falken["runs"])
    return out
