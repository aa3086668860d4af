"""Shared by the benches that measure Ember and the Linux guest alternately in one run
(bench_realtools, bench_taptools, bench_exec, bench_fs): a row from both kernels' runs (Ember's
median as the value, Linux's as the anchor, min/median/max of both in the note) and the table their
command lines print."""
import statistics


def fmt(vals):
    """min/median/max of a list of runs, or "none"."""
    if not vals:
        return "none"
    return f"{min(vals):.4g}/{statistics.median(vals):.4g}/{max(vals):.4g}"


def row(name, unit, ember, linux, reps, extra_note=""):
    """A bench/run.py row from both kernels' runs."""
    return {"name": name, "value": statistics.median(ember) if ember else None, "unit": unit,
            "anchor": statistics.median(linux) if linux else None, "better": "higher",
            "note": f"min/med/max ember {fmt(ember)} linux {fmt(linux)}, {reps} runs each" + extra_note,
            "ember_runs": ember, "linux_runs": linux}


def print_rows(rows):
    """One line per row: name, Ember, Linux, ratio of medians, unit and note."""
    width = max([44] + [len(r["name"]) for r in rows])
    for r in rows:
        v, a = r["value"], r["anchor"]
        ratio = f"{v / a:.2f}x" if v and a else "-"
        vs, ls = "-" if v is None else f"{v:.4g}", "-" if a is None else f"{a:.4g}"
        print(f"{r['name']:{width}} {vs:>10} {ls:>10} {ratio:>7}  {r['unit']}  ({r['note']})")
