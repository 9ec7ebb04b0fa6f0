"""logpai's Drain (the logparser3 package) next to triage's template miner.

  python3 benches/drain_ga.py ga LOGHUB_DIR [OUT_DIR]
      Drain with logpai's own per-system settings (read from logparser3's
      Drain/benchmark.py, not copied here) on the 16 Loghub 2k samples:
      grouping accuracy as logpai's evaluator computes it, and seconds.
  python3 benches/drain_ga.py speed FILE [OUT_DIR]
      Drain on one file with no per-system setting (the whole line is the
      content, no masking regexes, st 0.5, depth 4): lines and seconds.

Prints tab-separated lines. Needs `pip install logparser3`; runs offline.
"""
import ast
import contextlib
import importlib.util
import io
import os
import sys
import tempfile
import time

from logparser.Drain import LogParser
from logparser.utils import evaluator


def settings():
    origin = importlib.util.find_spec("logparser.Drain.benchmark").origin
    with open(origin, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "benchmark_settings":
            return ast.literal_eval(node.value)
    raise SystemExit("no benchmark_settings in " + origin)


def count_lines(path):
    with open(path, "rb") as f:
        return sum(1 for _ in f)


def ga(loghub, out):
    print("system\tga_drain\tlines\tseconds")
    total_lines, total_secs, gas = 0, 0.0, []
    for system, s in settings().items():
        indir = os.path.join(loghub, os.path.dirname(s["log_file"]))
        name = os.path.basename(s["log_file"])
        parser = LogParser(log_format=s["log_format"], indir=indir, outdir=out,
                           rex=s["regex"], depth=s["depth"], st=s["st"])
        quiet = io.StringIO()
        start = time.perf_counter()
        with contextlib.redirect_stdout(quiet):
            parser.parse(name)
        secs = time.perf_counter() - start
        with contextlib.redirect_stdout(quiet):
            _, accuracy = evaluator.evaluate(
                groundtruth=os.path.join(indir, name + "_structured.csv"),
                parsedresult=os.path.join(out, name + "_structured.csv"))
        lines = count_lines(os.path.join(indir, name))
        total_lines += lines
        total_secs += secs
        gas.append(accuracy)
        print(f"{system}\t{accuracy:.4f}\t{lines}\t{secs:.3f}")
    print(f"average\t{sum(gas) / len(gas):.4f}\t{total_lines}\t{total_secs:.3f}")


def speed(path, out):
    parser = LogParser(log_format="<Content>", indir=os.path.dirname(os.path.abspath(path)),
                       outdir=out, rex=[], depth=4, st=0.5)
    quiet = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(quiet):
        parser.parse(os.path.basename(path))
    secs = time.perf_counter() - start
    lines = count_lines(path)
    size = os.path.getsize(path)
    print("lines\tbytes\tseconds\tlines_per_s\tmb_per_s")
    print(f"{lines}\t{size}\t{secs:.3f}\t{lines / secs:.0f}\t{size / secs / 1e6:.2f}")


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("ga", "speed"):
        raise SystemExit(__doc__)
    out = sys.argv[3] if len(sys.argv) > 3 else tempfile.mkdtemp(prefix="drain-")
    if sys.argv[1] == "ga":
        ga(sys.argv[2], out)
    else:
        speed(sys.argv[2], out)


if __name__ == "__main__":
    main()
