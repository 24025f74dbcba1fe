"""What a run produces: result rows, the table, the JSON file, the baseline comparison, the plot.

A row is a flat dict (ROW_FIELDS), so `pandas.DataFrame(run())` works as it is. Every time is
in seconds per reported unit (per call, or per op for the tape-overhead chain); `ratio` is
ours / PyTorch, so below 1 means tapegrad is faster.
"""
import json
from datetime import datetime, timezone

SCHEMA = "tapegrad-bench/1"

# A row says what ran: name, family, kind ("op", "model" or "startup"), a shape label, the
# unit ("call", or "op" for the chain) and `per` units in one call, FLOPs per call or None.
# For each side ("ours", "torch"): the reported time (best of the group medians), the median
# and minimum of all rounds, their spread (interquartile range / median), the first call
# (compile or cache load included), calls per round, every round, and a note saying why there
# is no time. Then ours / PyTorch, each side's GFLOP/s, and against a baseline: the earlier
# value of the compared metric ("ratio", or "ours" where there is no ratio), the relative
# change and whether it is a regression.

SIDE_FIELDS = ("", "_median", "_min", "_spread", "_first", "_number", "_rounds", "_note")
ROW_FIELDS = (("name", "family", "kind", "shape", "unit", "per", "flops")
              + tuple(f"ours{f}" for f in SIDE_FIELDS) + tuple(f"torch{f}" for f in SIDE_FIELDS)
              + ("ratio", "gflops_ours", "gflops_torch",
                 "baseline", "baseline_metric", "change", "regression"))
DOC_FIELDS = ("schema", "created", "command", "options", "machine", "notes", "rows", "baseline")

# Notes that only say a side does not apply: the table shows a dash, not a footnote.
QUIET_NOTES = ("not run", "no JIT")


def make_row(workload, result):
    """The row of one workload from `timing.measure`'s result (side -> Stats or a reason)."""
    row = dict.fromkeys(ROW_FIELDS)
    row.update(name=workload.name, family=workload.family, kind=workload.kind,
               shape=workload.shape, unit=workload.unit, per=workload.per, flops=workload.flops)
    for side in ("ours", "torch"):
        stats = result.get(side, "not run")
        if isinstance(stats, str):
            row[f"{side}_note"] = stats
            continue
        per = workload.per
        row.update({side: stats.best / per, f"{side}_median": stats.median / per,
                    f"{side}_min": stats.min / per, f"{side}_spread": stats.spread,
                    f"{side}_first": None if stats.first is None else stats.first / per,
                    f"{side}_number": stats.number,
                    f"{side}_rounds": [r / per for r in stats.rounds]})
        if workload.flops:
            row[f"gflops_{side}"] = workload.flops / (stats.best * 1e9)
    if row["ours"] is not None and row["torch"] is not None:
        row["ratio"] = row["ours"] / row["torch"]
    return row


def make_doc(rows, options, machine, notes, command=None):
    return {"schema": SCHEMA, "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "command": command, "options": options, "machine": machine, "notes": list(notes),
            "rows": rows, "baseline": None}


def validate(doc):
    """Raise ValueError naming every way `doc` differs from the results schema."""
    problems = []
    if not isinstance(doc, dict):
        raise ValueError("results: not a JSON object")
    if doc.get("schema") != SCHEMA:
        problems.append(f"schema is {doc.get('schema')!r}, expected {SCHEMA!r}")
    problems += [f"missing key {k!r}" for k in DOC_FIELDS if k not in doc]
    for i, row in enumerate(doc.get("rows") or []):
        missing = [k for k in ROW_FIELDS if k not in row]
        if missing:
            problems.append(f"row {i} ({row.get('name')}): missing {', '.join(missing)}")
        for side in ("ours", "torch"):
            value = row.get(side)
            if value is not None and not (isinstance(value, (int, float)) and value > 0):
                problems.append(f"row {i} ({row.get('name')}): {side} is {value!r}")
            if value is None and not row.get(f"{side}_note"):
                problems.append(f"row {i} ({row.get('name')}): no {side} time and no note")
    if problems:
        raise ValueError("results do not match the schema: " + "; ".join(problems))


def write_json(doc, path):
    validate(doc)
    with open(path, "w") as f:
        json.dump(doc, f, indent=1, allow_nan=False)
        f.write("\n")


def load_json(path):
    with open(path) as f:
        doc = json.load(f)
    validate(doc)
    return doc


def compare_baseline(rows, baseline_doc, threshold):
    """Mark every row that also ran in `baseline_doc` with its change, and return the rows that
    regressed by more than `threshold` (0.2 = 20% slower).

    The ratio ours / PyTorch is compared where both runs have it: measured side by side, it
    cancels most of a noisy machine's drift, where an absolute time moved by up to 2.4x
    between runs on these machines. Otherwise tapegrad's own time is compared."""
    old = {r["name"]: r for r in baseline_doc["rows"]}
    regressions = []
    for row in rows:
        before = old.get(row["name"])
        if before is None:
            continue
        for metric in ("ratio", "ours"):
            if row.get(metric) is not None and before.get(metric) is not None:
                change = row[metric] / before[metric] - 1
                row.update(baseline=before[metric], baseline_metric=metric, change=change,
                           regression=change > threshold)
                if row["regression"]:
                    regressions.append(row)
                break
    return regressions


def format_seconds(seconds, unit="call"):
    """3 significant figures in the unit that suits: 12.4 ms, 2.85 us/op, 1.52 s."""
    for scale, name in ((1.0, "s"), (1e-3, "ms"), (1e-6, "us"), (1e-9, "ns")):
        if seconds >= scale or name == "ns":
            value = seconds / scale
            break
    digits = 0 if value >= 100 else 1 if value >= 10 else 2
    return f"{value:.{digits}f} {name}" + ("" if unit == "call" else f"/{unit}")


def _ratio(value):
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}"


class _Notes:
    """Footnotes, numbered once per distinct text."""

    def __init__(self):
        self.texts = []

    def mark(self, text):
        if text not in self.texts:
            self.texts.append(text)
        return f"[{self.texts.index(text) + 1}]"


def _cell(row, side, notes):
    value = row[side]
    if value is not None:
        spread = row[f"{side}_spread"]
        return format_seconds(value, row["unit"]) + (f" ±{spread * 100:.0f}%" if spread else "")
    note = row[f"{side}_note"] or "not run"
    if note in QUIET_NOTES:
        return "—"
    label = "ours" if side == "ours" else "PyTorch"
    return f"n/a {notes.mark(f'{label}: {note}')}"


def format_table(rows, machine=None, options=None, notes=()):
    """The run as a plain-text table, with the machine on top and the n/a reasons below."""
    footnotes = _Notes()
    has_baseline = any(r.get("change") is not None for r in rows)
    header = ["workload", "shape", "ours", "PyTorch", "ours/PyTorch", "GFLOP/s ours | PyTorch"]
    if has_baseline:
        header.append("vs baseline")
    body, last_family = [], None
    for row in rows:
        if last_family is not None and row["family"] != last_family:
            body.append(None)
        last_family = row["family"]
        gflops = ""
        if row["gflops_ours"] is not None or row["gflops_torch"] is not None:
            gflops = " | ".join("—" if g is None else f"{g:.1f}"
                                for g in (row["gflops_ours"], row["gflops_torch"]))
        cells = [row["name"], row["shape"], _cell(row, "ours", footnotes),
                 _cell(row, "torch", footnotes),
                 "" if row["ratio"] is None else _ratio(row["ratio"]), gflops]
        if has_baseline:
            change = row.get("change")
            cells.append("" if change is None else
                         f"{change * 100:+.0f}% ({row['baseline_metric']})"
                         + (" REGRESSION" if row.get("regression") else ""))
        body.append(cells)
    widths = [max(len(str(c[i])) for c in [header] + [b for b in body if b]) for i in
              range(len(header))]
    right = {2, 3, 4}

    def line(cells):
        return "  ".join(str(c).rjust(w) if i in right else str(c).ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    out = []
    if machine:
        out += [summarize_machine(machine, options or {}), ""]
    out += [line(header), line(["-" * w for w in widths])]
    out += [line(cells) if cells else "" for cells in body]
    out += ["", "Times: best of 3 group medians per call (per op for the chain); ±: interquartile "
            "range of all rounds / median. ours/PyTorch below 1: tapegrad is faster."]
    out += [f"{mark} {text}" for mark, text in
            ((f"[{i + 1}]", t) for i, t in enumerate(footnotes.texts))]
    out += [f"Note: {n}" for n in notes]
    return "\n".join(out)


def summarize_machine(machine, options):
    """One line: CPU, cores, the libraries and threads of both sides, and the dtype."""
    blas, numba, torch = machine.get("blas") or {}, machine.get("numba") or {}, machine.get("torch")
    parts = [f"{machine.get('cpu')}, {machine.get('usable_cores')} cores",
             f"numpy {machine.get('numpy')} ({blas.get('name')} {blas.get('version')}"
             + (f", {blas['corename']}" if blas.get("corename") else "")
             + (f", {_threads(blas['threads'])}" if blas.get("threads") else "") + ")",
             f"numba {numba.get('version')} ("
             + (f"{numba['threading_layer']} threading layer, {_threads(numba['num_threads'])}"
                if numba.get("num_threads") else "no parallel kernel ran") + ")",
             f"torch {torch['torch']} ({_threads(torch['threads'])})" if torch else "torch not run",
             f"{options.get('dtype', '')}, min-time {options.get('min_time', '')} s"]
    return " | ".join(parts)


def _threads(n):
    return f"{n} thread" + ("" if n == 1 else "s")


def plot_ratios(rows, path):
    """A horizontal bar chart of ours / PyTorch per workload (log scale, 1 = parity)."""
    try:
        import matplotlib
    except ImportError:
        raise RuntimeError("--plot needs matplotlib (pip install matplotlib)") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [r for r in rows if r["ratio"] is not None]
    if not shown:
        raise RuntimeError("--plot: no workload has both sides timed")
    fig, ax = plt.subplots(figsize=(9, 0.28 * len(shown) + 1.2))
    names = [r["name"] for r in shown][::-1]
    ratios = [r["ratio"] for r in shown][::-1]
    ax.barh(names, ratios, color=["tab:green" if x <= 1 else "tab:red" for x in ratios])
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_xscale("log")
    ax.margins(y=0.01)
    ax.set_xlabel("time ours / PyTorch (log scale; < 1: tapegrad is faster)")
    ax.tick_params(axis="y", labelsize=7)
    lo, hi = min(ratios), max(ratios)
    ax.set_xlim(min(0.5, lo / 1.5), max(2.0, hi * 1.5))
    for y, x in enumerate(ratios):
        ax.text(x, y, f" {_ratio(x)}", va="center", fontsize=6)
    ax.set_title("tapegrad vs PyTorch, same machine, same run")
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)
