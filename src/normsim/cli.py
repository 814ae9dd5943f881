"""The ``normsim`` command.

User mistakes (a malformed scenario, a bad option, an ``--out`` folder in use or not
writable) end with exit code 2 and one line per problem on standard error, never a
traceback, and nothing is written under ``--out``. A write that fails later (disk full) ends
with exit code 1 and one line, and leaves the folder as it was.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from normsim import __version__
from normsim.models import DEFAULT_KIND, KINDS, get_kind
from normsim.outdir import OutputError, WriteFailed
from normsim.scenario import ScenarioError, load_scenario

if TYPE_CHECKING:
    from normsim.schema import Spec

USAGE_ERROR = 2
WRITE_ERROR = 1


class UsageError(Exception):
    """A command-line mistake: reported in one line, exit code 2."""


def _whole_number(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    """An argparse type: a whole number from ``minimum`` (to ``maximum``)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum or (maximum is not None and value > maximum):
            span = f"at least {minimum}" if maximum is None else f"{minimum} to {maximum}"
            raise argparse.ArgumentTypeError(f"must be {span}, got {value}")
        return value

    return parse


_positive, _seed, _port = _whole_number(1), _whole_number(0), _whole_number(1, 65535)


def cmd_run(args: argparse.Namespace) -> int:
    """Run replicates of a scenario, print the summary, optionally write the tables."""
    from normsim.experiments.replicates import run_scenario
    from normsim.outdir import claim

    scenario = load_scenario(args.scenario)
    if args.steps is not None:  # an override, held to the schema's limits like the file
        scenario = scenario.with_steps(args.steps)
    kind = get_kind(scenario.kind)
    if args.engine not in kind.engines:
        raise UsageError(f"--engine {args.engine} does not run {kind.name} scenarios; they "
                         f"run on the {' or '.join(kind.engines)} engine")
    if args.out is not None:
        claim(args.out, overwrite=args.overwrite)  # before any computation
    progress = sys.stderr.isatty() and not args.quiet
    if args.posterior is not None:
        return _run_posterior(args, scenario, kind)
    results = run_scenario(
        scenario, args.replicates, args.seed, engine=args.engine,
        agents=not args.no_agents, progress=progress,
    )
    print(kind.summarize(results))
    if args.out is not None:
        written = results.write(args.out, overwrite=args.overwrite)
        print(f"\nwrote {', '.join(written)} to {args.out}")
    return 0


def _run_posterior(args: argparse.Namespace, scenario: Any, kind: Any) -> int:
    """``run --posterior DIR``: runs over parameter sets drawn from a calibration's posterior.

    The drawing and running live in :mod:`normsim.experiments.posterior`; this prints the
    summary and writes the tables.
    """
    from normsim.analysis.posterior import format_posterior, posterior_probability
    from normsim.experiments.posterior import PosteriorError, posterior_draws, run_posterior

    try:
        draws = posterior_draws(args.posterior, args.draws, args.seed, scenario)
    except PosteriorError as err:
        raise UsageError(str(err)) from None
    per_draw = max(1, args.replicates // args.draws)
    results = run_posterior(scenario, draws, per_draw, args.seed, engine=args.engine,
                            agents=not args.no_agents,
                            progress=sys.stderr.isatty() and not args.quiet)
    print(f"{scenario.name}: {len(draws)} posterior draws x {per_draw} runs "
          f"(calibration {draws.calibration}, {args.posterior})")
    horizon = scenario.data.get("end_year")
    print(format_posterior(posterior_probability(results.runs), horizon))
    if "institutional_adoption" in results.runs:
        print(format_posterior(posterior_probability(results.runs, "institutional_adoption"),
                               horizon, brief=True))
    if args.out is not None:
        written = results.write(args.out, overwrite=args.overwrite)
        print(f"\nwrote {', '.join(written)} to {args.out}")
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    """Fit a calibration file by ABC-SMC (pyabc) into --out; or a model choice; or recovery.

    A file with ``models:`` is an ABC model choice; ``--recovery M`` runs M repeats of
    parameter recovery on synthetic records instead of fitting the history.
    """
    from normsim.experiments.calibration import ResumeError, calibrate
    from normsim.experiments.calibrationfile import ModelChoice, load_calibration

    try:
        import pyabc  # noqa: F401
    except ImportError:
        raise UsageError("calibrate needs pyabc: pip install 'normsim[calibrate]'") from None
    cal = load_calibration(args.calibration)
    if args.population is not None or args.generations is not None:  # a quick look
        cal = dataclasses.replace(cal, population=args.population or cal.population,
                                  generations=args.generations or cal.generations)
    if args.recovery is not None and isinstance(cal, ModelChoice):
        raise UsageError(f"--recovery: {cal.name} is a model choice; give a calibration "
                         "file of one model")
    if args.out is None:  # as sweeps: results/<name>
        args.out = Path("results") / (cal.name + ("-recovery" if args.recovery else ""))
    if args.resume and args.overwrite:
        raise UsageError("--resume continues the calibration in --out; --overwrite replaces "
                         "it: give one")
    from normsim.plotting import calibration as figures

    try:
        if args.recovery is not None:
            from normsim.experiments.recovery import recover

            result = recover(cal, args.out, args.recovery, workers=args.workers,
                             scheduler=args.scheduler, resume=args.resume,
                             overwrite=args.overwrite, figures=figures.plot_recovery)
        elif isinstance(cal, ModelChoice):
            result = calibrate(cal, args.out, workers=args.workers, scheduler=args.scheduler,
                               resume=args.resume, overwrite=args.overwrite,
                               predictive_draws=args.predictive_draws,
                               figures=figures.plot_model_choice)
        else:
            result = calibrate(cal, args.out, workers=args.workers, scheduler=args.scheduler,
                               resume=args.resume, overwrite=args.overwrite,
                               predictive_draws=args.predictive_draws,
                               figures=figures.plot_calibration)
    except ResumeError as err:
        raise UsageError(f"--resume: {err}") from None
    except KeyboardInterrupt:
        kept = ("the finished repeats are kept in " + str(args.out / "repeats")
                if args.recovery is not None else
                "the finished generations are kept in " + str(args.out / "history.db"))
        print(f"normsim: interrupted; {kept}: rerun with --resume to continue",
              file=sys.stderr)
        return 130
    if args.recovery is not None:
        _print_recovery(cal, result, args.out)
    elif isinstance(cal, ModelChoice):
        _print_model_choice(cal, result, args.out)
    else:
        _print_calibration(cal, result, args.out)
    return 0


def _print_calibration(cal: Any, result: dict[str, Any], out: Path) -> None:
    meta = result["meta"]
    post = result["posterior"]
    print(f"{cal.name}: {meta['generations']} generations ({meta['stopped']}), "
          f"{int(result['diagnostics']['simulations'].sum())} simulations, "
          f"{meta['seconds_this_session']:.1f} s this session")
    w = post["weight"]
    for p in cal.priors:
        mean = float((post[p.name] * w).sum() / w.sum())
        print(f"  {p.name:<24} posterior mean {mean:.4g}  prior [{p.low:g}, {p.high:g}]")
    pred = result["predictive"]
    both = pred.pivot(index="target", columns="under", values="p_match")
    print("  P(match)  prior -> posterior")
    for t in dict.fromkeys(pred["target"]):
        held = "  (held out)" if t in cal.predict else ""
        print(f"  {t:<28} {both.loc[t, 'prior']:.2f} -> {both.loc[t, 'posterior']:.2f}{held}")
    written = "history.db, posterior.parquet, diagnostics.csv, predictive.csv"
    held = result.get("holdout")
    if held is not None:
        written += ", holdout.csv"
        print("  hold-out: P(match | fitted record) = posterior-predictive p-value "
              "(particles whose run reproduces the fitted record)")
        for row in held.itertuples():
            print(f"  {row.target:<28} p = {row.p_value:.3f}  (new runs {row.p_posterior:.2f}"
                  f" [{row.p_posterior_low:.2f}, {row.p_posterior_high:.2f}], prior "
                  f"{row.p_prior:.2f}; {row.particles} particles, ESS {row.ess:.0f})")
    print(f"wrote {written}, figures, metadata.json to {out}")


def _print_model_choice(choice: Any, result: dict[str, Any], out: Path) -> None:
    meta = result["meta"]
    diag = result["diagnostics"]
    print(f"{choice.name}: {meta['generations']} generations ({meta['stopped']}), "
          f"{int(diag['simulations'].sum())} simulations, "
          f"{meta['seconds_this_session']:.1f} s this session; final epsilon "
          f"{diag['epsilon'].iloc[-1]:g}")
    print("  P(model | record), uniform model prior: ABC-SMC, and directly from "
          "P(record | model) by prior simulation")
    for row in result["evidence"].itertuples():
        print(f"  {row.model:<28} {row.probability_abc_smc:.3f}   direct {row.probability:.3f}"
              f"  (P(record | model) {row.evidence:.3f} [{row.evidence_low:.3f}, "
              f"{row.evidence_high:.3f}], {row.matches} of {row.draws} prior draws)")
    wide = result["model_predictive"].pivot(index="target", columns="model", values="p_match")
    names = list(result["evidence"]["model"])
    print("  P(match) under each model's prior: " + ", ".join(names))
    for target in dict.fromkeys(result["model_predictive"]["target"]):
        print(f"  {target:<28} " + "  ".join(f"{wide.loc[target, n]:.2f}" for n in names))
    print(f"wrote history.db, model_probabilities.csv, model_evidence.csv, "
          f"model_predictive.csv, diagnostics.csv, posteriors.parquet, figures, metadata.json "
          f"to {out}")


def _print_recovery(cal: Any, result: dict[str, Any], out: Path) -> None:
    meta = result["meta"]["recovery"]
    summary = result["summary"]
    print(f"{cal.name}: parameter recovery, {meta['repeats']} repeats "
          f"({meta['exact_repeats']} reached epsilon 0; mean ESS of the last generation "
          f"{meta['mean_ess']:.0f} of {meta['population']} particles)")
    print(f"  truth inside the {meta['level']:.0%} interval: share [95% interval], "
          "expected, calibrated band; posterior sd / prior sd")
    for r in summary.itertuples():
        flag = "" if r.calibrated else "   OUTSIDE the band"
        print(f"  {r.parameter:<24} {r.coverage:.2f} [{r.ci_low:.2f}, {r.ci_high:.2f}], "
              f"{r.expected:.2f}, {r.band_low}-{r.band_high} of {r.repeats}; "
              f"{r.sd_ratio_mean:.2f}{flag}")
    print(f"wrote recovery.csv, recovery_summary.csv, repeats/, figures, metadata.json to {out}")


def cmd_validate(args: argparse.Namespace) -> int:
    """Check scenario files without running them."""
    for name in args.scenarios:
        scenario = load_scenario(name)
        what = get_kind(scenario.kind).describe(scenario.data)
        print(f"{scenario.source}: ok ({scenario.name}, {what})")
    return 0


def _file_schema(kind: str) -> Spec:
    """The schema of a kind's scenario files, or of sweep files (``sweep``)."""
    if kind == "sweep":
        from normsim.experiments.sweepfile import SWEEP

        return SWEEP
    return get_kind(kind).schema


def cmd_params(args: argparse.Namespace) -> int:
    """Print the parameter table (Markdown) of a kind's scenario files (or sweep files)."""
    from normsim.schema import parameter_table

    print(parameter_table(_file_schema(args.kind)))
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    """Write the JSON Schema (draft 2020-12) of a kind's scenario files, or of sweep files."""
    import json

    from normsim.schema import json_schema

    what = "sweep file" if args.kind == "sweep" else f"{args.kind} scenario file"
    schema = json_schema(_file_schema(args.kind), f"normsim {what}",
                         extends=args.kind != "sweep")
    text = json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
    if args.out is None:
        sys.stdout.write(text)
        return 0
    try:
        args.out.write_text(text, encoding="utf-8")
    except OSError as err:
        raise UsageError(f"{args.out}: cannot be written: {err.strerror or err}") from None
    print(f"wrote the JSON Schema of {what}s to {args.out}")
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    """Run a sweep file: Parquet chunks streamed to --out, --resume completes what is missing."""
    import contextlib
    import time

    from normsim.analysis.effects import summarize_sweep
    from normsim.experiments.store import (
        SweepUsageError,
        default_out,
        read_manifest,
        remaining_runs,
        run_sweep,
        work_dir,
    )
    from normsim.experiments.sweepfile import load_sweep
    from normsim.experiments.tasks import TASK_RUNS

    sweep = load_sweep(args.sweep)
    out = args.out if args.out is not None else default_out(sweep)
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out}: --out must be a folder, and a file of that name exists")
    manifest = read_manifest(work_dir(out)) if args.resume and out.is_dir() else None
    replicates = args.replicates or (manifest["replicates"] if manifest else sweep.replicates)
    task_runs = args.task_runs or (manifest["task_runs"] if manifest else TASK_RUNS)
    if args.samples is not None and args.samples != sweep.samples:
        sweep = sweep.with_samples(args.samples)
    elif manifest and manifest.get("samples") not in (None, sweep.samples):
        with contextlib.suppress(ScenarioError):  # if the file's design changed, the
            sweep = sweep.with_samples(manifest["samples"])  # resume check names it
    sweep = sweep.with_replicates(replicates)
    sweep = _sweep_posterior(args, sweep, manifest)
    progress = sys.stderr.isatty() and not args.quiet
    started = time.perf_counter()
    try:
        report = run_sweep(sweep, out, workers=args.workers, scheduler=args.scheduler,
                           resume=args.resume, task_runs=task_runs, progress=progress,
                           overwrite=args.overwrite)
    except SweepUsageError as err:
        raise UsageError(str(err)) from None
    except WriteFailed as err:
        print(f"normsim: {err}; the finished tasks are kept: rerun with --resume once the "
              "folder can be written", file=sys.stderr)
        return WRITE_ERROR
    except KeyboardInterrupt:
        total = sweep.n_points * sweep.replicates
        stored = total - remaining_runs(out, sweep, task_runs)
        print(f"normsim: interrupted; {stored:,} of {total:,} runs are stored in {out}; "
              "rerun with --resume to complete the sweep", file=sys.stderr)
        return 130
    wall = time.perf_counter() - started
    if report.tasks_run == 0 and args.resume:
        print(f"{out}: the sweep is already complete")
    elif report.tasks_run < report.tasks:
        print(f"resumed: ran {report.tasks_run} of {report.tasks} tasks; the other "
              f"{report.tasks - report.tasks_run} were stored before the interruption")
    print(summarize_sweep(out, wall_time=wall if report.tasks_run else None))
    if report.tasks_run:
        print(f"\nwrote runs.parquet, steps.parquet, points.parquet, metadata.json and "
              f"sweep.json to {out}")
    return 0


def _sweep_posterior(args: argparse.Namespace, sweep: Any, manifest: dict | None) -> Any:
    """The sweep under ``--posterior`` (a resume without it takes the one it started with)."""
    from normsim.experiments.posterior import PosteriorError, posterior_draws

    started = (manifest or {}).get("resolved", {}).get("posterior")
    folder, draws = args.posterior, args.draws
    if folder is None and started is not None:  # as --replicates: the options it started with
        folder = Path(manifest["posterior_folder"])
        draws = draws or started["draws"]
    if folder is None:
        if draws is not None:
            raise UsageError("--draws goes with --posterior DIR")
        return sweep
    if draws is None:
        draws = started["draws"] if started else min(100, sweep.replicates)
    try:
        return sweep.with_posterior(posterior_draws(folder, draws, sweep.seed))
    except PosteriorError as err:
        raise UsageError(str(err)) from None


def _assignment(text: str) -> tuple[str, str]:
    """``NAME=VALUE`` as a pair (for ``--where``)."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise UsageError(f"--where {text}: expected NAME=VALUE, e.g. threshold=0.18")
    return name.strip(), value.strip()


def cmd_discover(args: argparse.Namespace) -> int:
    """Scenario discovery on a sweep folder (PRIM): the trajectory and the chosen box."""
    from normsim.analysis.discovery import (
        OUTPUT_FOLDER,
        DiscoveryError,
        describe,
        discover,
        format_report,
        write_discovery,
    )
    from normsim.outdir import claim, publish
    from normsim.plotting.discovery import plot_discovery

    out = args.out if args.out is not None else args.directory / OUTPUT_FOLDER
    try:
        where = dict(_assignment(text) for text in args.where)
        found = discover(args.directory, outcome=args.outcome, threshold=args.threshold,
                         per=args.per, min_coverage=args.min_coverage, where=where)
    except DiscoveryError as err:
        raise UsageError(str(err)) from None
    claim(out, overwrite=args.overwrite)
    record = found.to_json()
    print(format_report({**record, "sentences": describe(record)}))

    def write(folder: Path) -> None:
        write_discovery(found, folder)
        plot_discovery(folder, args.format)

    written = publish(out, write, last="discovery.json")
    print(f"\nwrote {', '.join(written)} to {out}")
    return 0


def cmd_sensitivity(args: argparse.Namespace) -> int:
    """Sobol' (or Morris) indices of a sweep folder: a table and a figure."""
    from normsim.analysis.sensitivity import (
        SensitivityError,
        analyze,
        format_table,
        precision_warning,
        write_table,
    )
    from normsim.plotting import save, sensitivity_indices

    try:
        table = analyze(args.directory, resamples=args.resamples, seed=args.seed)
    except SensitivityError as err:
        raise UsageError(str(err)) from None
    print(format_table(table))
    warning = precision_warning(table)
    if warning:
        print(f"normsim: {warning}", file=sys.stderr)
    path = write_table(args.directory, table)
    figure = save(sensitivity_indices(table),
                  args.directory / "figures" / f"sensitivity.{args.format}")
    print(f"\nwrote {path} and {figure}")
    return 0


def cmd_patterns(args: argparse.Namespace) -> int:
    """Check a pattern file: P(match) per pattern, the joint per scenario, ablations."""
    import time

    from normsim.analysis.patterns import format_report
    from normsim.experiments.patterns import NothingToAblate, load_patterns, run_patterns
    from normsim.outdir import claim

    pset = load_patterns(args.patterns)
    if args.out is not None:
        claim(args.out, overwrite=args.overwrite)  # before any computation
    progress = sys.stderr.isatty() and not args.quiet
    started = time.perf_counter()
    try:
        report = run_patterns(pset, replicates=args.replicates, seed=args.seed,
                              ablate=args.ablate, progress=progress)
    except NothingToAblate as err:
        raise UsageError(f"--ablate: {err}") from None
    print(format_report(report.patterns, report.joint, report.ablation, report.meta))
    rows = 1 + (report.ablation["mechanism"].nunique() if args.ablate else 0)
    print(f"\n{len(pset.scenarios)} scenarios x {rows} rows x {report.meta['replicates']} "
          f"runs in {time.perf_counter() - started:.1f} s")
    if args.out is not None:
        from normsim.plotting import plot_ablation

        def figures(folder: Path) -> None:
            if not report.ablation.empty:
                plot_ablation(folder, args.format)

        written = report.write(args.out, overwrite=args.overwrite, figures=figures)
        print(f"wrote {', '.join(written)} to {args.out}")
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    """Draw the figures of a run or sweep folder into DIR/figures."""
    from normsim.plotting import plot_directory

    if not (args.directory / "metadata.json").is_file():
        raise UsageError(f"{args.directory}: no results here (metadata.json is missing); "
                         "give a folder written by normsim run --out or normsim sweep")
    for path in plot_directory(args.directory, args.format):
        print(path)
    return 0

FIGURES_RECORD = "figures.json"
"""The record ``normsim figures`` writes last: provenance, the numbers shown, its files."""


def _claim_figures(out: Path, overwrite: bool) -> None:
    """Claim the figures folder: --overwrite replaces only a set this command wrote.

    The headline figures are committed (docs/figures), so replacing them is the normal
    case; but a folder that also holds files this command did not write (not listed in
    its figures.json) is refused even with --overwrite, since the set is replaced whole.
    """
    import json

    from normsim.outdir import claim, holds_something

    claim(out, overwrite=overwrite)
    if not holds_something(out):
        return
    record = out / FIGURES_RECORD
    try:
        known = set(json.loads(record.read_text(encoding="utf-8"))["files"])
    except (OSError, ValueError, KeyError, TypeError):
        known = set()
    foreign = sorted(p.name for p in out.iterdir() if p.name not in known)
    if foreign:
        shown = ", ".join(foreign[:4]) + (f" and {len(foreign) - 4} more" if len(foreign) > 4
                                          else "")
        raise UsageError(f"{out}: --overwrite replaces the figures normsim figures wrote "
                         f"there as a whole, but the folder also holds {shown}, which it did "
                         "not write; move them, or choose another --out")


def cmd_figures(args: argparse.Namespace) -> int:
    """The headline figures under a posterior: the fan chart of adoption, the lever chart."""
    import json
    import tempfile
    import time

    from normsim.analysis.posterior import fan_table, lever_table, posterior_probability
    from normsim.experiments.headline import fan_runs, lever_runs, lever_settings
    from normsim.experiments.posterior import PosteriorError, posterior_draws
    from normsim.experiments.sweepfile import load_sweep
    from normsim.outdir import publish
    from normsim.plotting.posterior import FILES, plot_headline

    scenario = load_scenario(args.scenario)
    sweep = load_sweep(args.sweep)
    try:
        lever_settings(sweep)
    except ValueError as err:
        raise UsageError(f"--sweep {args.sweep}: {err}") from None
    try:
        draws = posterior_draws(args.posterior, args.draws, args.seed, scenario)
        sweep.with_replicates(args.replicates).with_posterior(draws)  # checked before running
    except PosteriorError as err:
        raise UsageError(str(err)) from None
    _claim_figures(args.out, args.overwrite)  # before any computation
    progress = sys.stderr.isatty() and not args.quiet
    started = time.perf_counter()
    fan = fan_runs(scenario, draws, args.replicates, args.seed, progress=progress)
    with tempfile.TemporaryDirectory(prefix="normsim-figures-") as work:
        runs = lever_runs(sweep, draws, args.replicates, Path(work), workers=args.workers,
                          progress=progress)
    cascade = posterior_probability(fan.runs)
    levers = lever_table(runs)
    base = levers[levers["lever"] == "baseline"].iloc[0]
    meta = {
        **{k: v for k, v in fan.metadata.items() if k.endswith(("_version", "git_commit"))},
        "command": "normsim figures " + " ".join(sys.argv[2:]) if sys.argv[1:2] == [
            "figures"] else "normsim figures",
        "seconds": round(time.perf_counter() - started, 1),
        "posterior": {**draws.describe(), "folder": str(args.posterior)},
        "fan": {"scenario": scenario.name, "scenario_hash": scenario.digest,
                "end_year": scenario.data.get("end_year"), "runs": cascade["runs"],
                "seed": args.seed, "tipping_share": scenario.data["region"]["tipping_share"],
                "p": cascade["pooled"], "ci": list(cascade["pooled_ci"]),
                "level": cascade["level"], "draw_interval": list(cascade["per_draw_interval"]),
                "var_chance": cascade["var_chance"],
                "var_parameters": cascade["var_parameters"]},
        "levers": {"sweep": sweep.name, "sweep_hash": sweep.digest, "scenario": sweep.base.name,
                   "end_year": sweep.base.data.get("end_year"), "seed": sweep.seed,
                   "uncertainties": [p.name for p in sweep.uncertainties.parameters],
                   "replicates_per_point": args.replicates,
                   "runs_per_setting": int(base["runs"]),
                   "baseline": {"p": float(base["p"]),
                                "ci": [float(base["ci_low"]), float(base["ci_high"])]}},
    }

    def write(folder: Path) -> None:
        fan_table(fan.steps).to_csv(folder / "fan.csv", index=False)
        levers.to_csv(folder / "levers.csv", index=False)
        files = sorted(["fan.csv", "levers.csv", *FILES.values(), FIGURES_RECORD])
        (folder / FIGURES_RECORD).write_text(json.dumps({**meta, "files": files}, indent=2)
                                             + "\n", encoding="utf-8")
        plot_headline(folder)

    written = publish(args.out, write, last=FIGURES_RECORD)
    lo, hi = cascade["pooled_ci"]
    print(f"{scenario.name} under the posterior of {draws.calibration} ({len(draws)} draws, "
          f"{cascade['runs']:,} runs): P(cascade by {meta['fan']['end_year']}) "
          f"{cascade['pooled']:.1%} [95% CI {lo:.1%}, {hi:.1%}]")
    print(f"{sweep.name}, one lever at a time: P(cascade by {meta['levers']['end_year']}) "
          f"today {base['p']:.1%} [95% CI {base['ci_low']:.1%}, {base['ci_high']:.1%}]")
    for _, row in levers[~levers["baseline"]].iterrows():
        print(f"  {row['lever']:<24} {row['value']:<12} {row['p']:6.1%}   95% CI "
              f"[{row['ci_low']:.1%}, {row['ci_high']:.1%}]")
    print(f"wrote {', '.join(written)} to {args.out}")
    return 0


def viz_command(port: int, page: str = "normsim.viz.app") -> list[str]:
    """The command that serves a kind's browser page (Solara, production mode, local only)."""
    return [sys.executable, "-m", "solara", "run", page, "--production",
            "--host", "127.0.0.1", "--port", str(port), "--no-open"]


def cmd_viz(args: argparse.Namespace) -> int:
    """Serve the browser page (SolaraViz) on 127.0.0.1 and print its address."""
    import importlib.util
    import socket
    import subprocess

    if any(importlib.util.find_spec(name) is None for name in ("solara", "ipyvuetify")):
        print('normsim: the browser page needs the viz extra: pip install -e ".[viz]"',
              file=sys.stderr)
        return USAGE_ERROR
    from normsim.models.region.model import DEFAULT_SCENARIO
    from normsim.scenario import SCENARIO_DIR, resolve_path

    name = args.scenario or DEFAULT_SCENARIO
    scenario = load_scenario(name)
    page = get_kind(scenario.kind).page
    if page is None:
        with_page = ", ".join(k.name for k in KINDS.values() if k.page)
        raise UsageError(f"{name}: {scenario.kind} scenarios have no browser page; the kinds "
                         f"with one: {with_page}")
    path = resolve_path(name).resolve()
    opens = path.stem if path.parent == SCENARIO_DIR.resolve() else str(path)
    from normsim.viz.controls import DEFAULT_DRAWS, DRAWS_ENV, POSTERIOR_ENV

    posterior: dict[str, str] = {}
    draws = args.draws or DEFAULT_DRAWS
    if args.posterior is not None:
        from normsim.experiments.posterior import PosteriorError, posterior_draws

        if page != "normsim.viz.app":
            raise UsageError(f"--posterior: the {scenario.kind} page has no posterior ensemble")
        try:
            posterior_draws(args.posterior, draws, 0, scenario)  # before the server
        except PosteriorError as err:
            raise UsageError(str(err)) from None
        posterior = {POSTERIOR_ENV: str(args.posterior.resolve()), DRAWS_ENV: str(draws)}
    elif args.draws is not None:
        raise UsageError("--draws goes with --posterior DIR")
    with socket.socket() as probe:
        if os.name == "posix":  # as the server binds: a port in TIME_WAIT is free
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", args.port))
        except OSError:
            raise UsageError(f"port {args.port} is in use on 127.0.0.1; choose another "
                             "with --port") from None
    env = {**os.environ, "NORMSIM_SCENARIO": opens, **posterior}
    if not posterior:  # a posterior named by the calling shell is not this page's
        env.pop(POSTERIOR_ENV, None)
    env.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")
    env.setdefault("SOLARA_THEME_TITLE", f"normsim · {scenario.name}")  # the tab, while loading
    env.setdefault("SOLARA_THEME_SHOW_BANNER", "False")  # no badge over the page's last rows
    under = f" under the posterior of {args.posterior} ({draws} draws)" if posterior else ""
    print(f"normsim viz: {scenario.name}{under} at http://127.0.0.1:{args.port}/ "
          "(Ctrl-C stops it)", flush=True)
    if os.name == "posix":  # the server takes over this process: signals reach it directly
        os.execve(sys.executable, viz_command(args.port, page), env)
    return subprocess.call(viz_command(args.port, page), env=env)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(
        prog="normsim",
        description="Agent-based simulation of norm diffusion: will the region tip into a "
        "norm cascade, and will ASEAN adopt the force by consensus?",
    )
    parser.add_argument("--version", action="version", version=f"normsim {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run replicates of a scenario and summarize them")
    run.add_argument("scenario", help="scenario YAML file, or a shipped name "
                     "(asean-2024, threshold/watts-2002)")
    run.add_argument("--replicates", "-n", type=_positive, default=1000,
                     help="number of replicates (default 1000)")
    run.add_argument("--seed", type=_seed, default=0, help="master seed (default 0)")
    run.add_argument("--steps", type=_positive, default=None,
                     help="years to simulate: end_year becomes start_year + T, within the "
                     "schema's year cap (default: to the scenario's end_year); for a "
                     "threshold scenario, the step limit")
    run.add_argument("--out", type=Path, default=None,
                     help="folder for runs/steps/agents.parquet and metadata.json")
    run.add_argument("--engine", choices=("batch", "mesa"), default="batch",
                     help="batch: all replicates at once on arrays (default); "
                     "mesa: one Mesa model per replicate (same results, slower)")
    run.add_argument("--no-agents", action="store_true",
                     help="skip the per-state table (agents.parquet)")
    run.add_argument("--overwrite", action="store_true",
                     help="replace the results already in --out, as a whole")
    run.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    run.add_argument("--posterior", type=Path, default=None, metavar="DIR",
                     help="draw parameter sets from the posterior of a normsim calibrate "
                     "folder and run replicates/draws runs per draw")
    run.add_argument("--draws", type=_positive, default=100,
                     help="posterior draws with --posterior (default 100)")
    run.set_defaults(handler=cmd_run)

    calibrate = sub.add_parser(
        "calibrate", help="fit parameters to a pattern file by ABC-SMC (needs pyabc)",
        description="ABC-SMC (pyabc) of a calibration file: pyabc's SQLite history is "
        "written to --out as it runs; --resume continues an interrupted calibration. A file "
        "with held-out targets also predicts them (holdout.csv); a file with models: is an "
        "ABC model choice (model_probabilities.csv); --recovery M checks the calibration on "
        "synthetic records (recovery.csv). See docs/calibration.md.")
    calibrate.add_argument("calibration", help="calibration YAML file, or a shipped name "
                           "(asean-history, asean-holdout-2014, asean-null-models)")
    calibrate.add_argument("--out", type=Path, default=None,
                           help="output folder (default results/<calibration name>)")
    calibrate.add_argument("--overwrite", action="store_true",
                           help="replace what --out holds")
    where = calibrate.add_mutually_exclusive_group()
    where.add_argument("--workers", type=_positive, default=None,
                       help="local processes (default 1: reproducible)")
    where.add_argument("--scheduler", metavar="ADDRESS", default=None,
                       help="address of a running Dask scheduler")
    calibrate.add_argument("--resume", action="store_true",
                           help="continue the calibration in --out")
    calibrate.add_argument("--population", type=_positive, default=None,
                           help="particles per generation (default: the file's)")
    calibrate.add_argument("--generations", type=_positive, default=None,
                           help="at most this many generations (default: the file's)")
    calibrate.add_argument("--predictive-draws", type=_positive, default=200,
                           help="draws from the posterior and from the prior for the "
                           "posterior-predictive check, one run each (default 200); for a "
                           "model choice, prior draws of each model for the direct "
                           "estimate of P(record | model)")
    calibrate.add_argument("--recovery", type=_positive, default=None, metavar="M",
                           help="parameter recovery instead of the fit: M repeats, each "
                           "calibrating back to the record of one run from a prior draw "
                           "(default --out results/<name>-recovery)")
    calibrate.set_defaults(handler=cmd_calibrate)

    validate = sub.add_parser("validate", help="check scenario files without running them")
    validate.add_argument("scenarios", nargs="+", help="scenario YAML files or names")
    validate.set_defaults(handler=cmd_validate)

    file_kinds = (*KINDS, "sweep")
    params = sub.add_parser("params", help="print the scenario parameter table (Markdown)")
    params.add_argument("--kind", choices=file_kinds, default=DEFAULT_KIND,
                        help=f"the scenario kind, or sweep files (default {DEFAULT_KIND})")
    params.set_defaults(handler=cmd_params)

    schema = sub.add_parser(
        "schema", help="write the JSON Schema of scenario (or sweep) files, for editors",
        description="A JSON Schema (draft 2020-12) generated from the same schema that "
        "validates the files: editors with a YAML language server check and complete "
        "scenario files with it. It describes a file as written: one that gives extends: "
        "may leave out the top-level keys its base gives.")
    schema.add_argument("--kind", choices=file_kinds, default=DEFAULT_KIND,
                        help=f"the scenario kind, or sweep files (default {DEFAULT_KIND})")
    schema.add_argument("--out", type=Path, default=None,
                        help="file to write (default: standard output)")
    schema.set_defaults(handler=cmd_schema)

    sweep = sub.add_parser(
        "sweep", help="run a sweep file: levers and uncertainties over a grid, LHS, Sobol' or "
        "Morris design",
        description="Run every point of a sweep file with its replicates, streaming Parquet "
        "chunks to --out; after an interruption, --resume runs only what is missing. "
        "Local processes by default; --scheduler sends the tasks to a Dask cluster "
        "(for SLURM/PBS clusters, start one with dask-jobqueue: see the README or the "
        "docs of normsim.experiments.executors).")
    sweep.add_argument("sweep", help="sweep YAML file, or a shipped name (asean-levers)")
    sweep.add_argument("--out", type=Path, default=None,
                       help="output folder (default results/<sweep name>)")
    sweep.add_argument("--replicates", "-n", type=_positive, default=None,
                       help="replicates per point (default: the sweep file's)")
    sweep.add_argument("--samples", type=_positive, default=None,
                       help="samples of the LHS/Sobol'/Morris design (default: the file's)")
    sweep.add_argument("--workers", type=_positive, default=None,
                       help="local worker processes (default: the number of cores)")
    sweep.add_argument("--scheduler", metavar="ADDRESS", default=None,
                       help="address of a running Dask scheduler, e.g. tcp://host:8786")
    sweep.add_argument("--resume", action="store_true",
                       help="complete the interrupted sweep in --out")
    sweep.add_argument("--overwrite", action="store_true",
                       help="replace the results already in --out, as a whole, once the "
                       "new sweep is complete")
    sweep.add_argument("--task-runs", type=_positive, default=None,
                       help="runs per task, the unit of resumption (default 1000)")
    sweep.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    sweep.add_argument("--posterior", type=Path, default=None, metavar="DIR",
                       help="spread each point's replicates over parameter sets drawn from "
                       "the posterior of a normsim calibrate folder (the same draws at "
                       "every point)")
    sweep.add_argument("--draws", type=_positive, default=None,
                       help="posterior draws with --posterior (default: the replicates per "
                       "point, at most 100); fewer draws run faster")
    sweep.set_defaults(handler=cmd_sweep)

    discover = sub.add_parser(
        "discover", help="scenario discovery (PRIM): where in a sweep is the outcome likely?",
        description="Scenario discovery with PRIM (EMA workbench; pip install "
        "'normsim[discover]'): the box of levers and uncertainties in which an outcome is "
        "likely. Per point (default), a point is of interest when the share of its replicates "
        "with the outcome is at least --threshold; per run, a run is of interest when the "
        "outcome happened. Prints the peeling trajectory and the chosen box (the last with "
        "coverage >= --min-coverage); writes trajectory.csv, box.csv, discovery.json and the "
        "figures tradeoff and box_limits to --out.")
    discover.add_argument("directory", type=Path, help="folder written by normsim sweep")
    discover.add_argument("--outcome", default="cascade_reached",
                          help="a boolean column of runs.parquet (default cascade_reached)")
    discover.add_argument("--threshold", type=float, default=0.5,
                          help="P(outcome) at or above which a point is of interest, in "
                          "(0, 1] (default 0.5)")
    discover.add_argument("--per", choices=("point", "run"), default="point",
                          help="one case per design point (default) or per run")
    discover.add_argument("--min-coverage", type=float, default=0.8,
                          help="the chosen box is the last with at least this coverage, in "
                          "(0, 1] (default 0.8)")
    discover.add_argument("--where", metavar="NAME=VALUE", action="append", default=[],
                          help="only the points where a parameter has this value, e.g. "
                          "threshold=0.18 (repeatable)")
    discover.add_argument("--out", type=Path, default=None,
                          help="output folder (default DIRECTORY/discovery)")
    discover.add_argument("--overwrite", action="store_true",
                          help="replace the discovery already in --out, as a whole")
    discover.add_argument("--format", choices=("png", "svg"), default="png",
                          help="figure format (default png)")
    discover.set_defaults(handler=cmd_discover)

    sensitivity = sub.add_parser(
        "sensitivity", help="Sobol' (or Morris) indices of a sweep folder, table and figure")
    sensitivity.add_argument("directory", type=Path, help="folder written by normsim sweep")
    sensitivity.add_argument("--resamples", type=_positive, default=1000,
                             help="bootstrap resamples for the intervals (default 1000)")
    sensitivity.add_argument("--seed", type=_seed, default=0,
                             help="seed of the bootstrap (default 0)")
    sensitivity.add_argument("--format", choices=("png", "svg"), default="png",
                             help="figure format (default png)")
    sensitivity.set_defaults(handler=cmd_sensitivity)

    patterns = sub.add_parser(
        "patterns", help="check the model against a pattern file (and ablate its mechanisms)",
        description="Run each scenario of a pattern file and report, per pattern, P(match) "
        "with its 95%% Wilson interval and whether it holds (P >= tolerance), and per "
        "scenario the joint probability that a run matches all its patterns. --ablate runs "
        "every scenario again once per mechanism switch of its kind, switched off, with the "
        "same seeds, and tests whether each pattern's P(match) drops (one-sided Fisher "
        "exact test, alpha = 0.01).")
    patterns.add_argument("patterns", nargs="?", default="asean-history",
                          help="pattern YAML file, or a shipped name (default asean-history)")
    patterns.add_argument("--ablate", action="store_true",
                          help="switch off each mechanism in turn: the necessity table")
    patterns.add_argument("--replicates", "-n", type=_positive, default=None,
                          help="replicates per scenario and ablation (default: the file's)")
    patterns.add_argument("--seed", type=_seed, default=None,
                          help="master seed (default: the file's)")
    patterns.add_argument("--out", type=Path, default=None,
                          help="folder for patterns.csv, joint.csv, ablation.csv, "
                          "patterns.json and figures/ablation.png")
    patterns.add_argument("--overwrite", action="store_true",
                          help="replace the results already in --out, as a whole")
    patterns.add_argument("--format", choices=("png", "svg"), default="png",
                          help="figure format (default png)")
    patterns.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    patterns.set_defaults(handler=cmd_patterns)

    plot = sub.add_parser("plot", help="draw the figures of a run or sweep folder")
    plot.add_argument("directory", type=Path, help="folder written by normsim run or sweep")
    plot.add_argument("--format", choices=("png", "svg"), default="png",
                      help="figure format (default png)")
    plot.set_defaults(handler=cmd_plot)

    figures = sub.add_parser(
        "figures", help="the headline figures under a posterior (the README's images)",
        description="Run a scenario (asean-2024) and the levers of a sweep file "
        "(asean-levers, one lever moved at a time from the scenario as written, over the "
        "sweep's uncertainties) under the posterior of a normsim calibrate folder, and draw "
        "the posterior-predictive fan chart of adoption and P(cascade) by lever into --out, "
        "with their tables (fan.csv, levers.csv) and figures.json. The folder is replaced "
        "as a whole; --overwrite replaces a set this command wrote there, and nothing else.")
    figures.add_argument("--posterior", type=Path, required=True, metavar="DIR",
                         help="a folder written by normsim calibrate")
    figures.add_argument("--out", type=Path, default=Path("docs/figures"),
                         help="output folder (default docs/figures)")
    figures.add_argument("--overwrite", action="store_true",
                         help="replace the figures this command wrote in --out")
    figures.add_argument("--replicates", "-n", type=_positive, default=1000,
                         help="runs of the scenario, and per point of each lever sweep "
                         "(default 1000)")
    figures.add_argument("--draws", type=_positive, default=100,
                         help="posterior draws, the same for every figure (default 100)")
    figures.add_argument("--seed", type=_seed, default=1,
                         help="seed of the draws and of the scenario's runs (default 1)")
    figures.add_argument("--scenario", default="asean-2024",
                         help="the fan chart's scenario (default asean-2024)")
    figures.add_argument("--sweep", default="asean-levers",
                         help="the sweep file whose levers are charted (default asean-levers)")
    figures.add_argument("--workers", type=_positive, default=None,
                         help="local worker processes (default: the number of cores)")
    figures.add_argument("--quiet", "-q", action="store_true", help="no progress bars")
    figures.set_defaults(handler=cmd_figures)

    viz = sub.add_parser("viz", help="open the model in the browser (needs the viz extra)")
    viz.add_argument("scenario", nargs="?", default=None,
                     help="scenario the page opens with (default asean-2024)")
    viz.add_argument("--port", type=_port, default=8765, help="port on 127.0.0.1 (default 8765)")
    viz.add_argument("--posterior", type=Path, default=None, metavar="DIR",
                     help="a posterior ensemble: spread the page's R runs over parameter sets "
                     "drawn from a normsim calibrate folder (the levers still apply)")
    viz.add_argument("--draws", type=_positive, default=None,
                     help="posterior draws with --posterior (default 100)")
    viz.set_defaults(handler=cmd_viz)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``normsim`` console command."""
    args = build_parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except ScenarioError as err:
        print(err, file=sys.stderr)
        return USAGE_ERROR
    except (UsageError, OutputError) as err:
        print(f"normsim: {err}", file=sys.stderr)
        return USAGE_ERROR
    except WriteFailed as err:
        print(f"normsim: {err}", file=sys.stderr)
        return WRITE_ERROR
    except KeyboardInterrupt:
        print("normsim: interrupted; nothing was written", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into e.g. `head`: not an error
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the exit-time flush
        return 0


if __name__ == "__main__":
    sys.exit(main())
