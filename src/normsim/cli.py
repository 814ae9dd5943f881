"""The ``normsim`` command.

User mistakes (a malformed scenario, a bad option) end with exit code 2 and one line per
problem on standard error, never a traceback, and nothing is written under ``--out``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from normsim import __version__
from normsim.scenario import ScenarioError, load_scenario

USAGE_ERROR = 2


class UsageError(Exception):
    """A command-line mistake: reported in one line, exit code 2."""


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def _check_out(out: Path | None) -> None:
    if out is not None and out.exists() and not out.is_dir():
        raise UsageError(f"{out}: --out must be a folder, and a file of that name exists")


def cmd_run(args: argparse.Namespace) -> int:
    """Run replicates of a scenario, print the summary, optionally write the tables."""
    from normsim.experiments import run_scenario
    from normsim.results import summarize

    scenario = load_scenario(args.scenario)
    _check_out(args.out)
    progress = sys.stderr.isatty() and not args.quiet
    results = run_scenario(
        scenario, args.replicates, args.seed, engine=args.engine, steps=args.steps,
        agents=not args.no_agents, progress=progress,
    )
    print(summarize(results))
    if args.out is not None:
        results.write(args.out)
        print(f"\nwrote {', '.join(sorted(p.name for p in args.out.iterdir()))} to {args.out}")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    """Check scenario files without running them."""
    for name in args.scenarios:
        scenario = load_scenario(name)
        print(f"{scenario.source}: ok ({scenario.name}, {len(scenario.codes)} states, "
              f"{scenario.data['start_year']}–{scenario.data['end_year']})")
    return 0


def cmd_params(args: argparse.Namespace) -> int:
    """Print the scenario parameter table (Markdown)."""
    from normsim.scenario import parameter_table

    print(parameter_table())
    return 0


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
    run.add_argument("scenario", help="scenario YAML file, or a name in scenarios/")
    run.add_argument("--replicates", "-n", type=_positive, default=1000,
                     help="number of replicates (default 1000)")
    run.add_argument("--seed", type=_seed, default=0, help="master seed (default 0)")
    run.add_argument("--steps", type=_positive, default=None,
                     help="years to simulate (default: to the scenario's end_year)")
    run.add_argument("--out", type=Path, default=None,
                     help="folder for runs/steps/agents.parquet and metadata.json")
    run.add_argument("--engine", choices=("batch", "mesa"), default="batch",
                     help="batch: all replicates at once on arrays (default); "
                     "mesa: one Mesa model per replicate (same results, slower)")
    run.add_argument("--no-agents", action="store_true",
                     help="skip the per-state table (agents.parquet)")
    run.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    run.set_defaults(handler=cmd_run)

    validate = sub.add_parser("validate", help="check scenario files without running them")
    validate.add_argument("scenarios", nargs="+", help="scenario YAML files or names")
    validate.set_defaults(handler=cmd_validate)

    params = sub.add_parser("params", help="print the scenario parameter table (Markdown)")
    params.set_defaults(handler=cmd_params)
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
    except UsageError as err:
        print(f"normsim: {err}", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:
        print("normsim: interrupted; nothing was written", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into e.g. `head`: not an error
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the exit-time flush
        return 0


if __name__ == "__main__":
    sys.exit(main())
