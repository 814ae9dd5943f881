"""normsim benchmarks: run as ``python benchmarks/run.py [--quick] [--json PATH]``.

Measures, in one run on this machine, and prints as a Markdown table (the same figures go
to the JSON file, if asked for):

* ``asean_batch_vs_mesa_speedup``: the ASEAN scenario, batch engine against Mesa;
* ``asean_engine_over_rng_floor``: the batch engine advancing 2,000 replicates of
  asean-2024 for 16 steps, from their integer run seeds to the final state (random streams
  included), over one bulk ``standard_normal`` call drawing as many normals, timed in turns
  (target <= 5);
* ``threshold_step_over_matvec``: the slowest synchronous step of a full global cascade
  over the time of one bare scipy CSR ``A @ x`` on the same Erdős–Rényi graph (z = 4),
  for N = 10^4, 10^5, 10^6 (target <= 3 at 10^6); the mean step and a whole ``simulate``
  call per step are reported too;
* ``ndlib_speedup``: NDlib's ThresholdModel time over normsim's on the same graphs,
  thresholds and initial adopters at N = 10^4, final adopter sets checked identical
  (target >= 100);
* ``watts_window_seconds``: a Watts (2002) cascade-window reproduction, 10 mean degrees x
  200 runs at N = 10^4 (target < 60);
* memory per agent and per tie, and graph-building time at N = 10^6;
* ``viz_ensemble_update_seconds``: the browser page's update after a lever moves, 500
  replicates of asean-2003 with their statistics and figures (target <= 1 s), and its ratio
  to the bare ``run_scenario`` of the same replicates.

``--quick`` keeps every size (the largest takes seconds) and cuts repeats and runs.
"""

import argparse
import contextlib
import json
import os
import platform
import sys
import time
from pathlib import Path

import bench_asean
import bench_ndlib
import bench_threshold
import bench_viz
import numpy as np
import scipy

SIZES = (10_000, 100_000, 1_000_000)
WATTS_DEGREES = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0]


def machine() -> dict[str, object]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = None
    with contextlib.suppress(ValueError, OSError, AttributeError):
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    versions = {"python": platform.python_version(), "numpy": np.__version__}
    versions["scipy"] = scipy.__version__
    for name in ("networkx", "mesa", "ndlib"):
        try:
            versions[name] = __import__(name).__version__
        except Exception:
            versions[name] = None
    return {
        "cpus": os.cpu_count(),
        "cpu_model": cpu,
        "ram_gib": None if ram is None else round(ram, 1),
        "platform": platform.platform(),
        "versions": versions,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats and runs")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    quick = args.quick
    started = time.perf_counter()
    out: dict[str, object] = {"quick": quick, "machine": machine()}

    print("threshold step vs. matvec ...", file=sys.stderr)
    steps = {n: bench_threshold.step_versus_matvec(n, 3 if quick else 10) for n in SIZES}
    out["threshold_step_over_matvec"] = {
        str(n): r["step_max_over_matvec"] for n, r in steps.items()
    }
    out["threshold_mean_step_over_matvec"] = {
        str(n): r["step_mean_over_matvec"] for n, r in steps.items()
    }
    out["threshold_run_per_step_over_matvec"] = {
        str(n): r["run_per_step_over_matvec"] for n, r in steps.items()
    }
    out["threshold_step_details"] = {str(n): r for n, r in steps.items()}

    print("memory and graph building at 10^6 ...", file=sys.stderr)
    out["memory"] = bench_threshold.memory(SIZES[-1])
    out["graph_build_seconds"] = bench_threshold.graph_build_seconds(SIZES[-1], 1 if quick else 3)

    print("NDlib ...", file=sys.stderr)
    reason = bench_ndlib.ndlib_available()
    if reason is None:
        watts = bench_ndlib.compare(
            10_000, "watts", bench_threshold.replicate_seeds(7, 5 if quick else 10)
        )
        uniform = bench_ndlib.compare(
            10_000, "uniform", bench_threshold.replicate_seeds(8, 2 if quick else 5)
        )
        out["ndlib_speedup"] = watts["speedup"]
        out["ndlib_identical_final_adopters"] = watts["identical"] and uniform["identical"]
        out["ndlib_details"] = {"watts": watts, "uniform": uniform}
    else:
        out["ndlib_speedup"] = None
        out["ndlib_note"] = f"n/a: NDlib not importable ({reason}); pip install ndlib six"

    print("Watts window ...", file=sys.stderr)
    window = bench_threshold.watts_window(WATTS_DEGREES, 50 if quick else 200)
    out["watts_window_seconds"] = window["seconds"]
    out["watts_window_details"] = window

    print("ASEAN batch vs. Mesa ...", file=sys.stderr)
    asean = bench_asean.compare(1000 if quick else 5000, 50 if quick else 200, 1 if quick else 3)
    out["asean_batch_vs_mesa_speedup"] = asean.get("speedup")
    out["asean_details"] = asean

    print("ASEAN engine vs. the bare draws ...", file=sys.stderr)
    floor = bench_asean.engine_over_rng_floor(2000, 5 if quick else 15)
    out["asean_engine_over_rng_floor"] = floor.get("ratio")
    out["asean_engine_details"] = floor

    print("viz ensemble update ...", file=sys.stderr)
    viz = bench_viz.ensemble_update(500, 2 if quick else 5)
    out["viz_ensemble_update_seconds"] = viz.get("update_seconds")
    out["viz_details"] = viz
    out["total_seconds"] = time.perf_counter() - started

    print_table(out)
    if args.json:
        args.json.write_text(json.dumps(out, indent=2, default=float) + "\n")
        print(f"\nwrote {args.json}")
    failed = [
        name
        for name, ok in (("ndlib identical", out.get("ndlib_identical_final_adopters", True)),
                         ("asean runs alone identical",
                          out.get("asean_engine_details", {}).get("same_runs_alone", True)))
        if not ok
    ]
    if failed:
        print(f"FAILED: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def print_table(out: dict) -> None:
    m = out["machine"]
    v = m["versions"]
    print(
        f"\nMachine: {m['cpus']} CPUs, {m['cpu_model']}, {m['ram_gib']} GiB RAM; Python "
        f"{v['python']}, numpy {v['numpy']}, scipy {v['scipy']}, networkx {v['networkx']}, "
        f"Mesa {v['mesa']}, NDlib {v['ndlib']}{' (--quick)' if out['quick'] else ''}\n"
    )
    rows = [("figure", "measured", "target")]
    asean = out["asean_details"]
    if "error" in asean:
        rows.append(("asean_batch_vs_mesa_speedup", f"n/a ({asean['error']})", ""))
    else:
        rows.append(
            (
                "asean_batch_vs_mesa_speedup",
                f"{asean['speedup']:.0f}x ({asean['batch_replicates_per_second']:.0f} vs "
                f"{asean['mesa_replicates_per_second']:.0f} replicates/s; same runs table: "
                f"{asean['same_runs_table']})",
                ">= 100",
            )
        )
    engine = out.get("asean_engine_details", {})
    if "error" in engine or not engine:
        rows.append(("asean_engine_over_rng_floor", f"n/a ({engine.get('error', 'not run')})",
                     "<= 5"))
    else:
        rows.append((
            "asean_engine_over_rng_floor",
            f"{engine['ratio']:.1f} ({engine['engine_ms']:.1f} ms for {engine['replicates']:,} "
            f"replicates x {engine['steps']} steps vs {engine['floor_ms']:.2f} ms for "
            f"{engine['normals']:,} normals; the same runs alone: {engine['same_runs_alone']})",
            "<= 5",
        ))
    viz = out.get("viz_details", {})
    if "error" in viz or not viz:
        rows.append(("viz_ensemble_update_seconds", f"n/a ({viz.get('error', 'not run')})",
                     "<= 1"))
    else:
        rows.append((
            "viz_ensemble_update_seconds",
            f"{viz['update_seconds']:.2f} s ({viz['replicates']} replicates of "
            f"{viz['scenario']}; {viz['update_over_run_scenario']:.1f}x the bare "
            f"run_scenario, {viz['run_scenario_seconds']:.2f} s)",
            "<= 1",
        ))
    for n, r in out["threshold_step_details"].items():
        rows.append(
            (
                f"threshold_step_over_matvec, N = {int(n):,}",
                f"{r['step_max_over_matvec']:.2f} (slowest step {r['step_max_ms']:.3f} ms; "
                f"matvec {r['matvec_ms']:.3f} ms)",
                "<= 3 at 10^6" if int(n) == SIZES[-1] else "",
            )
        )
        rows.append(
            (
                f"  mean step / whole run per step, N = {int(n):,}",
                f"{r['step_mean_over_matvec']:.2f} / {r['run_per_step_over_matvec']:.2f} "
                f"({r['steps_run']} steps, final share {r['final_share']:.3f})",
                "",
            )
        )
    mem = out["memory"]
    rows.append(
        (
            "memory, graph (CSR)",
            f"{mem['graph_bytes_per_edge']:.0f} B per tie + {mem['graph_bytes_per_node']:.0f} B "
            "per node",
            "",
        )
    )
    rows.append(
        (
            "memory, engine per agent (N = 10^6)",
            f"{mem['engine_state_bytes_per_agent']:.0f} B state, "
            f"{mem['engine_peak_bytes_per_agent']:.0f} B peak",
            "",
        )
    )
    for name, seconds in out["graph_build_seconds"].items():
        rows.append((f"graph building, N = 10^6, {name}", f"{seconds:.2f} s", ""))
    if out.get("ndlib_speedup") is None:
        rows.append(("ndlib_speedup", out.get("ndlib_note", "n/a"), ">= 100"))
    else:
        for name, d in out["ndlib_details"].items():
            label = (
                "ndlib_speedup" if name == "watts" else "  NDlib, uniform thresholds, 0.5% seeds"
            )
            rows.append(
                (
                    f"{label} ({name}, N = 10^4, {d['runs']} runs, {d['cascades']} cascades)",
                    f"{d['speedup']:.0f}x ({d['ndlib_seconds']:.2f} s / {d['normsim_seconds']:.3f} "
                    f"s; identical final adopters: {d['identical']})",
                    ">= 100" if name == "watts" else "",
                )
            )
    w = out["watts_window_details"]
    freq = ", ".join(f"{z:g}: {f:.2f}" for z, f in w["frequency"].items())
    rows.append(
        (
            f"watts_window_seconds (10 z x {w['runs']} runs, N = 10^4)",
            f"{w['seconds']:.1f} s (cascade frequency by z: {freq})",
            "< 60",
        )
    )
    width = [max(len(r[i]) for r in rows) for i in range(3)]
    for i, row in enumerate(rows):
        print("| " + " | ".join(cell.ljust(width[j]) for j, cell in enumerate(row)) + " |")
        if i == 0:
            print("|" + "|".join("-" * (w_ + 2) for w_ in width) + "|")
    print(f"\ntotal {out['total_seconds']:.0f} s")


if __name__ == "__main__":
    sys.exit(main())
