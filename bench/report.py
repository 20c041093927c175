"""results.json -> results.md: one markdown table per part, with machine, versions, date and targets."""
import json
import os
import platform
from pathlib import Path

GROUPS = [("native", "Native: CPython numpy vs PyTorch CPU, 1 BLAS thread each, same run"),
          ("browser", "Browser: headless Chromium, the page served like S3 (gzip as build/site-files.json says)"),
          ("engines", "Engines side by side: Chromium, Firefox ESR, WebKitGTK (the same page and steps in each)"),
          ("peers", "Peers: Falken vs TensorFlow.js and ConvNetJS, the same models, one session per engine")]


def cell(f):
    return "–" if f is None or f["median"] is None else f"{fmt(f['median'])} ({fmt(f['min'])}–{fmt(f['max'])})"


def peers_tables(figures):
    """One table per engine: rows are what was measured, columns the contenders, then Falken ÷ best peer."""
    out = []
    for engine in dict.fromkeys(f["engine"] for f in figures):
        mine = [f for f in figures if f["engine"] == engine]
        contenders = dict.fromkeys((f["contender"], f["contender_label"]) for f in mine if "contender_label" in f)
        by = {(f["row"], f["contender"]): f for f in mine}
        out += [f"### {engine}", "",
                "| Row | Unit | " + " | ".join(label for _, label in contenders) + " | Best peer | Falken ÷ best peer "
                "| Falken ÷ TF.js wasm |", "|---|---|" + "---:|" * (len(contenders) + 3)]
        for row, label, unit in dict.fromkeys((f["row"], f["row_label"], f["unit"]) for f in mine if "contender_label" in f):
            best = by.get((row, "ratio_best"))
            peer = by.get((row, best["reference"])) if best else None
            cells = [cell(by.get((row, c))) for c, _ in contenders]
            cells.append(f"{peer['contender_label']} {fmt(peer['median'])}" if peer else "–")
            for ratio in (best, by.get((row, "ratio_tfjs-wasm"))):
                cells.append("–" if ratio is None else f"**{ratio['median']:.2f}×** ({ratio['min']:.2f}–{ratio['max']:.2f})")
            out.append(f"| {label} | {unit} | " + " | ".join(cells) + " |")
        out.append("")
    out.append("Falken ÷ peer is the ratio of medians (min–max from the runs' extremes): for samples/s above 1 "
               "means Falken is ahead, for ms below 1 does.")
    return out


def engines_table(figures):
    """Rows: what was measured; columns: the engines (median, min–max)."""
    engines = list(dict.fromkeys(f["id"].split(".")[1] for f in figures))
    rows = list(dict.fromkeys((f["id"].split(".", 2)[2], f["label"].split(": ", 1)[1], f["unit"]) for f in figures))
    by_id = {f["id"]: f for f in figures}
    out = ["| Figure | Unit | " + " | ".join(engines) + " |", "|---|---|" + "---:|" * len(engines)]
    for key, label, unit in rows:
        cells = []
        for engine in engines:
            f = by_id.get(f"engines.{engine}.{key}")
            cells.append("–" if f is None or f["median"] is None
                         else f"{fmt(f['median'])} ({fmt(f['min'])}–{fmt(f['max'])})")
        out.append(f"| {label} | {unit} | " + " | ".join(cells) + " |")
    return out


def fmt(value):
    if value is None:
        return "–"
    a = abs(value)
    if a >= 1000:
        return f"{value:,.0f}"
    if a >= 100:
        return f"{value:.0f}"
    if a >= 10:
        return f"{value:.1f}"
    if a >= 1 or a == 0:
        return f"{value:.2f}"
    return f"{value:.3f}"


def machine():
    """CPU model, cores, memory, OS: what the table states about where it was measured."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = round(int(line.split()[1]) / 1024 ** 2, 1)
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": mem,
            "os": f"{platform.system()} {platform.release()}", "host_python": platform.python_version()}


def target_text(f):
    t = f.get("target")
    if not t:
        return ""
    on = " (every run)" if t.get("on") == "max" else ""
    return f"{t['op']} {fmt(t['value'])}{on}"


def met_text(f):
    if "met" not in f or f["met"] is None:
        return ""
    return "✅ met" if f["met"] else "❌ not met"


def table(figures, before=None):
    head = "| Figure | Unit | Median | Min–max | Runs |"
    rule = "|---|---|---:|---:|---:|"
    if before is not None:
        head += " Before (median) | Change |"
        rule += "---:|---:|"
    head += " Target | Met |"
    rule += "---|---|"
    lines = [head, rule]
    for f in figures:
        row = (f"| {f['label']} | {f['unit']} | **{fmt(f['median'])}** | {fmt(f['min'])}–{fmt(f['max'])} "
               f"| {f['runs']} |")
        if before is not None:
            old = before.get(f["id"])
            old_median = old["median"] if old else None
            change = ""
            if old_median and f["median"] is not None:
                change = f"{f['median'] / old_median:.2f}×"
            row += f" {fmt(old_median)} | {change} |"
        row += f" {target_text(f)} | {met_text(f)} |"
        lines.append(row)
    return lines


def render(results, before=None):
    m, v = results["machine"], results["versions"]
    out = [f"# Falken bench — {results['date']}", ""]
    if results.get("label"):
        out += [f"Label: **{results['label']}**", ""]
    out += [f"- Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, {m['os']}",
            "- Native: " + ", ".join(f"{k} {v[k]}" for k in ("python", "numpy", "numpy_blas", "torch") if v.get(k))
            + "; threads: torch 1, OPENBLAS/OMP/MKL_NUM_THREADS=1",
            "- Browser: " + ", ".join(f"{k} {v[k]}" for k in ("chromium", "pyodide_python", "pyodide_numpy") if v.get(k)),
            "- Peers (npm, integrity-checked against tools/vendor.lock.json): "
            + ", ".join(f"{k} {v[k]}" for k in ("@tensorflow/tfjs", "@tensorflow/tfjs-backend-wasm", "convnetjs")
                        if v.get(k)),
            f"- Every figure is the median of {results['runs']} runs (min–max beside it); targets from "
            "DESIGN.md §4, judged on the median unless marked \"every run\".",
            ""]
    if before is not None:
        out += [f"Before: {before.get('_date', '?')} ({before.get('_label') or 'previous run'}); Change = after ÷ before.",
                ""]
    for group, title in GROUPS:
        part = results["parts"].get(group, {})
        out += [f"## {title}", ""]
        if part.get("skipped"):
            out += [f"Skipped: {part['skipped']}", ""]
            continue
        figures = [f for f in results["figures"] if f["group"] == group]
        if group == "peers":
            out += peers_tables(figures) + [""]
        else:
            out += (engines_table(figures) if group == "engines" else table(figures, before)) + [""]
        notes = [f"- {f['label']}: {f['note']}" for f in figures if f.get("note")]
        notes += [f"- {n}" for n in part.get("notes", [])]
        if notes:
            out += ["Notes:", ""] + notes + [""]
        by_path = part.get("meta", {}).get("cold_by_path")
        if by_path:
            out += ["Cold load, bytes on the wire by file (median of the cold runs; responses per load):", "",
                    "| File | kB | Responses |", "|---|---:|---:|"]
            out += [f"| {p} | {b / 1e3:,.1f} | {n:g} |" for p, b, n in by_path[:15]]
            rest = by_path[15:]
            if rest:
                out.append(f"| {len(rest)} more files | {sum(b for _, b, _ in rest) / 1e3:,.1f} | "
                           f"{sum(n for _, _, n in rest):g} |")
            out.append("")
    judged = [f for f in results["figures"] if f.get("met") is not None]
    met = [f for f in judged if f["met"]]
    out += [f"## Targets: {len(met)} of {len(judged)} met", ""]
    out += [f"- {met_text(f)}: {f['target']['text']} — {f['label']}: {fmt(f['median'])} {f['unit']}"
            for f in judged]
    out.append("")
    return "\n".join(out)


def index(results):
    """id -> figure, plus the run's date and label (for --compare)."""
    out = {f["id"]: f for f in results["figures"]}
    out["_date"], out["_label"] = results.get("date"), results.get("label")
    return out


def load(path):
    return json.loads(Path(path).read_text())
