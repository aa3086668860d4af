#!/usr/bin/env python3
"""make bench: runs every bench/bench_*.py, prints one table and writes JSON to bench/results/.

Each bench module defines run() returning a list of rows:
  {"name": str, "value": float, "unit": str, "anchor": float or None, "better": "higher"|"lower",
   "note": str}
`anchor` is the Linux 6.1 guest's figure measured in the same run (bench_realtools.py boots
../shared/anchors/linux-guest/Image alternately with Ember), None where a row has no Linux counterpart. Speed is never asserted here: the table is for people, the JSON for tools.
Usage: bench/run.py [name-substring ...] to run only some modules.
"""
import datetime
import importlib.util
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")


def load(path):
    spec = importlib.util.spec_from_file_location(os.path.basename(path)[:-3], path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main():
    sys.path.insert(0, HERE)
    want = sys.argv[1:]
    rows = []
    for f in sorted(os.listdir(HERE)):
        if not (f.startswith("bench_") and f.endswith(".py")):
            continue
        if want and not any(w in f for w in want):
            continue
        print(f"running {f} ...", flush=True)
        try:
            for r in load(os.path.join(HERE, f)).run():
                r.setdefault("module", f[:-3])
                rows.append(r)
        except Exception as e:  # a broken bench must not hide the others
            rows.append({"module": f[:-3], "name": "error", "value": None, "unit": "",
                         "anchor": None, "note": repr(e)})
    print()
    width = max([46] + [len(r["name"]) for r in rows])
    print(f"{'benchmark':{width}} {'Ember':>12} {'Linux guest':>12} {'ratio':>7}  unit")
    for r in rows:
        v, a = r.get("value"), r.get("anchor")
        ratio = ""
        if v is not None and a:
            ratio = f"{(v / a if r.get('better', 'higher') == 'higher' else a / v):.2f}x"
        vs = "-" if v is None else f"{v:.4g}"
        print(f"{r['name']:{width}} {vs:>12} {(f'{a:.4g}' if a else '-'):>12} {ratio:>7}  {r.get('unit', '')}"
              f"{'  (' + r['note'] + ')' if r.get('note') else ''}")
    os.makedirs(RESULTS, exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    doc = {"date": stamp, "rows": rows}
    for name in (f"bench-{stamp}.json", "latest.json"):
        with open(os.path.join(RESULTS, name), "w") as f:
            json.dump(doc, f, indent=1)
    print(f"\nwrote {os.path.join(RESULTS, 'latest.json')}")


if __name__ == "__main__":
    main()
