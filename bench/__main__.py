"""`python -m bench`: time tapegrad and PyTorch side by side and print the table."""
import argparse
import sys


EXAMPLES = """examples:
  python -m bench --skip startup,registry     PERF.md's workloads only
  python -m bench --only conv,pool --plot conv.png
  python -m bench --only startup              import, kernel compile and cache load, first step
  python -m bench --baseline before.json --fail-on-regression
  python -m bench --list --only lstm
"""


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="python -m bench", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Time tapegrad and PyTorch side by side on this machine: every op and "
                    "model of the registry,\nin interleaved rounds, PyTorch in its own process.",
        epilog=EXAMPLES)
    p.add_argument("--only", action="append", metavar="NAMES",
                   help="comma-separated names, families (conv, lstm, startup, ...), dotted "
                        "prefixes (lenet.relu) or globs (*.fwdbwd); repeatable")
    p.add_argument("--skip", action="append", metavar="NAMES", help="the same, to leave out")
    p.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    p.add_argument("--threads", type=int, metavar="N",
                   help="threads for both sides (default: the usable cores)")
    p.add_argument("--min-time", type=float, default=1.0, metavar="SECONDS",
                   help="timed seconds per side and workload (default 1.0)")
    p.add_argument("--no-torch", action="store_true", help="time tapegrad only")
    p.add_argument("--json", default="bench-results.json", metavar="FILE",
                   help="where to write the results (default bench-results.json)")
    p.add_argument("--no-json", action="store_true", help="do not write a results file")
    p.add_argument("--baseline", metavar="FILE", help="an earlier results file to compare with")
    p.add_argument("--threshold", type=float, default=0.2,
                   help="a change above this fraction is a regression (default 0.2)")
    p.add_argument("--fail-on-regression", action="store_true",
                   help="exit with status 1 when the baseline comparison finds a regression")
    p.add_argument("--plot", metavar="PNG", help="a bar chart of the ratios (needs matplotlib)")
    p.add_argument("--list", action="store_true", help="list the workloads and exit")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p.parse_args(argv)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    from bench import report, runner, workloads

    if args.list:
        rows, notes = workloads.registry()
        for w in runner.select(rows, args.only, args.skip):
            print(f"{w.name:44s} {w.family:10s} {w.shape}")
        for note in notes:
            print(f"Note: {note}")
        return 0
    if args.threads is not None and args.threads < 1:
        print("--threads must be at least 1", file=sys.stderr)
        return 2
    doc = runner.run_suite(only=args.only, skip=args.skip, dtype=args.dtype,
                           threads=args.threads, min_time=args.min_time, torch=not args.no_torch,
                           progress=not args.no_progress, baseline=args.baseline,
                           threshold=args.threshold, command=["python", "-m", "bench", *argv])
    print(report.format_table(doc["rows"], doc["machine"], doc["options"], doc["notes"]))
    if doc["baseline"] is not None:
        regressed = doc["baseline"]["regressions"]
        print(f"\nBaseline {args.baseline} ({doc['baseline']['created']}): "
              f"{len(regressed)} regression(s) beyond {args.threshold:.0%}"
              + (": " + ", ".join(regressed) if regressed else ""))
    if not args.no_json:
        report.write_json(doc, args.json)
        print(f"\nResults: {args.json}")
    if args.plot:
        try:
            report.plot_ratios(doc["rows"], args.plot)
            print(f"Plot: {args.plot}")
        except RuntimeError as exc:
            print(f"No plot: {exc}", file=sys.stderr)
    if args.fail_on_regression and doc["baseline"] and doc["baseline"]["regressions"]:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
