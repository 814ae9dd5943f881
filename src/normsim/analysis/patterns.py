"""Pattern statistics: per run, from the result tables only (pattern-oriented modelling).

A pattern (Grimm et al. 2005) is a claim about what happened, checked run by run: each
statistic kind below turns a validated ``statistic`` mapping of a pattern file
(:mod:`normsim.experiments.patterns` parses them) and the runs, steps and agents tables into
one value per run: true, false, or missing where the pattern does not apply to the run (the
speed-up after tipping, in a run that never tips). A run *matches* when its value equals the
pattern's ``observed`` value. :func:`proportion` gives P(match) with its 95% Wilson interval,
:func:`joint` the share of runs that match every pattern of a scenario (among the runs
to which every one applies), and
:func:`drop_p_value` the one-sided test of whether an ablation lowers P(match).

The kinds, and the columns each reads:

- ``summit``: a summit in ``year`` (or one of ``years``) ended with one of ``outcome``
  (``adopted``, ``failed``, ``withdrawn``; empty: any), optionally with ``version`` tabled
  or with none of ``tabled_not`` tabled (a withdrawn proposal tables none: its versions
  were all taken off the table), and every state of ``blockers_include`` blocked it
  (``steps.summit``, ``steps.version_tabled``, ``agents.blocked``).
- ``adopters``: the states holding the norm (stage ``adopter`` or ``internalized``) in
  ``year`` are exactly ``only``; or include every state of ``include``, none of
  ``exclude``, at most ``max_count`` and at least ``min_count`` (``agents.stage``).
- ``version_adopted``: the version ``version`` (or any of ``versions``) was first adopted
  ``by`` a year, or in the years ``between`` (inclusive); ``adopted: false`` asks that it
  was not
  (``steps.institution_version``: the most ambitious version adopted so far).
- ``regional_stage``: the region is in one of ``stage`` in ``year``
  (``steps.regional_stage``); or it has not tipped by ``never_tipped_by``
  (``runs.tipping_year``).
- ``support_broader``: support is broader in ``later`` than in ``earlier``: the mean support
  is higher (``measure: mean_support``, ``steps.mean_support``), or more states are within
  ``margin`` of their threshold (``measure: near_threshold``, ``agents.support`` and
  ``agents.threshold``). Strictly: a tie is not broader.
- ``speedup_after_tipping``: in a run that tips, states adopt faster (first adoptions per
  year) in the ``window`` years after the tipping year than in the ``window`` years
  before it; the tipping year itself is in neither window, and the start year's holders are
  not adoptions. A window cut short by the start or the horizon counts the years it has;
  a run with no year in one of the windows, or that never tips, gets no value. The theory
  pattern of Finnemore & Sikkink (1998) (002:276–284). Strictly: a tie is not a speed-up.

The years are calendar years (``year`` columns): a year's row is the state at the end of
that year's update.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import fisher_exact

from normsim.analysis.intervals import wilson_interval

HOLDING = ("adopter", "internalized")
"""The state stages that hold the norm (``agents.stage``)."""
ALPHA = 0.01
"""Significance level of the ablation test (:func:`drop_p_value`)."""


class PatternDataError(ValueError):
    """The tables cannot answer a statistic: a column or a year is missing."""


def _need(table: pd.DataFrame | None, name: str, columns: Sequence[str]) -> pd.DataFrame:
    if table is None:
        raise PatternDataError(f"needs the {name} table (run with agents)")
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise PatternDataError(f"needs {', '.join(f'{name}.{c}' for c in missing)}, which "
                               "these results do not have")
    return table


def _years(table: pd.DataFrame, years: Sequence[int]) -> None:
    present = set(table["year"].unique().tolist())
    absent = [y for y in years if y not in present]
    if absent:
        span = f"{min(present)}–{max(present)}" if present else "none"
        raise PatternDataError(f"year {absent[0]} is not in the runs (years {span})")


def _per_run(runs: pd.DataFrame, values: pd.Series, fill: bool | None = False) -> pd.Series:
    """Values by run_id, one per run of ``runs``; runs without a value get ``fill``."""
    out = values.reindex(pd.Index(runs["run_id"], name="run_id"))
    out = out.astype("boolean")
    if fill is not None:
        out = out.fillna(fill)
    return out


def _summit(stat: Mapping[str, Any], runs: pd.DataFrame, steps: pd.DataFrame,
            agents: pd.DataFrame | None) -> pd.Series:
    years = stat["years"] if stat.get("years") is not None else [stat["year"]]
    wanted = ["summit"] + (["version_tabled"] if stat.get("version") or stat.get("tabled_not")
                           else [])
    _need(steps, "steps", ["run_id", "step", "year", *wanted])
    _years(steps, years)
    hit = steps["year"].isin(years) & steps["summit"].notna()
    if stat.get("outcome"):
        hit &= steps["summit"].isin(stat["outcome"])
    if stat.get("version"):
        hit &= steps["version_tabled"] == stat["version"]
    if stat.get("tabled_not"):
        hit &= ~steps["version_tabled"].isin(stat["tabled_not"]).fillna(False).astype(bool)
    chosen = steps.loc[hit.fillna(False), ["run_id", "step"]]
    blockers = stat.get("blockers_include") or []
    if blockers:
        table = _need(agents, "agents", ["run_id", "step", "state", "blocked"])
        mask = table["state"].isin(blockers) & table["blocked"].fillna(False).astype(bool)
        count = table.loc[mask].groupby(["run_id", "step"], observed=True).size()
        full = count[count == len(set(blockers))].index
        keys = pd.MultiIndex.from_frame(chosen)
        chosen = chosen[keys.isin(full)]
    return _per_run(runs, pd.Series(True, index=pd.Index(chosen["run_id"].unique())))


def _holders_at(agents: pd.DataFrame | None, year: int) -> pd.DataFrame:
    table = _need(agents, "agents", ["run_id", "year", "state", "stage"])
    _years(table, [year])
    at = table.loc[table["year"] == year, ["run_id", "state", "stage"]]
    return at.assign(holds=at["stage"].isin(HOLDING).to_numpy())


def _adopters(stat: Mapping[str, Any], runs: pd.DataFrame, steps: pd.DataFrame,
              agents: pd.DataFrame | None) -> pd.Series:
    at = _holders_at(agents, stat["year"])
    count = at.groupby("run_id", observed=True)["holds"].sum()

    def held(codes: Sequence[str]) -> pd.Series:
        inside = at["holds"] & at["state"].isin(codes).to_numpy()
        return inside.groupby(at["run_id"], observed=True).sum().reindex(count.index, fill_value=0)

    return _per_run(runs, adopters_rule(stat, count, held))


def adopters_rule(stat: Mapping[str, Any], count: Any, held: Callable[[Sequence[str]], Any]
                  ) -> Any:
    """Whether each run's holders meet an ``adopters`` statistic (``only``, ``include``, ...).

    Args:
        stat: the validated statistic.
        count: per run, how many states hold the norm (a Series or an array).
        held: per run, how many of the given states hold it (of the same kind as ``count``).

    The table path (:func:`_adopters`) and the trajectories' fast path
    (:mod:`normsim.models.region.statistics`) share this rule.
    """
    ok = count >= 0  # all true, of count's kind
    if stat.get("only") is not None:
        only = set(stat["only"])
        ok &= (held(sorted(only)) == len(only)) & (count == len(only))
    if stat.get("include"):
        ok &= held(stat["include"]) == len(set(stat["include"]))
    if stat.get("exclude"):
        ok &= held(stat["exclude"]) == 0
    if stat.get("max_count") is not None:
        ok &= count <= stat["max_count"]
    if stat.get("min_count") is not None:
        ok &= count >= stat["min_count"]
    return ok


def _version_adopted(stat: Mapping[str, Any], runs: pd.DataFrame, steps: pd.DataFrame,
                     agents: pd.DataFrame | None) -> pd.Series:
    _need(steps, "steps", ["run_id", "year", "institution_version"])
    wanted = [stat["version"]] if stat.get("version") else list(stat["versions"])
    is_version = steps["institution_version"].isin(wanted).fillna(False).astype(bool)
    first = steps.loc[is_version].groupby("run_id")["year"].min()
    first = first.reindex(pd.Index(runs["run_id"], name="run_id"))
    if stat.get("between") is not None:
        low, high = stat["between"]
        adopted = first.between(low, high)
    else:
        adopted = first <= stat["by"]
    adopted = adopted.fillna(False).astype(bool)
    value = adopted if stat.get("adopted", True) else ~adopted
    return _per_run(runs, value)


def _regional_stage(stat: Mapping[str, Any], runs: pd.DataFrame, steps: pd.DataFrame,
                    agents: pd.DataFrame | None) -> pd.Series:
    if stat.get("never_tipped_by") is not None:
        _need(runs, "runs", ["run_id", "tipping_year"])
        year = runs["tipping_year"]
        tipped = (year.notna() & (year <= stat["never_tipped_by"])).fillna(False)
        return _per_run(runs, pd.Series(~tipped.to_numpy(dtype=bool),
                                        index=runs["run_id"].to_numpy()))
    _need(steps, "steps", ["run_id", "year", "regional_stage"])
    _years(steps, [stat["year"]])
    at = steps.loc[steps["year"] == stat["year"]]
    inside = at["regional_stage"].astype(str).isin(stat["stage"]).to_numpy()
    return _per_run(runs, pd.Series(inside, index=at["run_id"].to_numpy()))


def _support_broader(stat: Mapping[str, Any], runs: pd.DataFrame, steps: pd.DataFrame,
                     agents: pd.DataFrame | None) -> pd.Series:
    earlier, later = stat["earlier"], stat["later"]
    if stat.get("measure", "mean_support") == "mean_support":
        _need(steps, "steps", ["run_id", "year", "mean_support"])
        _years(steps, [earlier, later])
        level = steps.loc[steps["year"].isin([earlier, later])].pivot_table(
            index="run_id", columns="year", values="mean_support", aggfunc="first")
    else:
        table = _need(agents, "agents", ["run_id", "year", "support", "threshold"])
        _years(table, [earlier, later])
        part = table.loc[table["year"].isin([earlier, later])]
        near = part["support"] >= part["threshold"] - stat.get("margin", 0.1)
        level = near.groupby([part["run_id"], part["year"]]).sum().unstack("year")
    return _per_run(runs, level[later] > level[earlier])


def _speedup_after_tipping(stat: Mapping[str, Any], runs: pd.DataFrame, steps: pd.DataFrame,
                           agents: pd.DataFrame | None) -> pd.Series:
    window = stat.get("window", 3)
    _need(runs, "runs", ["run_id", "tipping_year"])
    table = _need(agents, "agents", ["run_id", "year", "state", "stage"])
    start, end = int(table["year"].min()), int(table["year"].max())
    holds = table.loc[table["stage"].isin(HOLDING).to_numpy(), ["run_id", "state", "year"]]
    first = holds.groupby(["run_id", "state"], observed=True)["year"].min()
    first = first[first > start].reset_index()
    tip = runs.set_index("run_id")["tipping_year"]
    tipped = tip[tip.notna()].astype(int)
    first = first[first["run_id"].isin(tipped.index)]
    first = first.assign(offset=first["year"].to_numpy() - tipped.reindex(first["run_id"])
                         .to_numpy())
    before_n = first[(first.offset >= -window) & (first.offset < 0)].groupby("run_id").size()
    after_n = first[(first.offset > 0) & (first.offset <= window)].groupby("run_id").size()
    years_before = (tipped - np.maximum(tipped - window, start + 1)).clip(lower=0)
    years_after = (np.minimum(tipped + window, end) - tipped).clip(lower=0)
    before = before_n.reindex(tipped.index, fill_value=0) / years_before.replace(0, np.nan)
    after = after_n.reindex(tipped.index, fill_value=0) / years_after.replace(0, np.nan)
    applies = years_before.gt(0) & years_after.gt(0)
    value = (after > before)[applies]
    return _per_run(runs, value, fill=None)


STATISTICS: dict[str, Callable[..., pd.Series]] = {
    "summit": _summit,
    "adopters": _adopters,
    "version_adopted": _version_adopted,
    "regional_stage": _regional_stage,
    "support_broader": _support_broader,
    "speedup_after_tipping": _speedup_after_tipping,
}
"""Each statistic kind and its function (runs, steps, agents -> a value per run)."""


def statistic(stat: Mapping[str, Any], runs: pd.DataFrame, steps: pd.DataFrame,
              agents: pd.DataFrame | None) -> pd.Series:
    """The statistic's value in each run: a boolean Series by ``run_id``.

    NA marks a run to which the statistic does not apply (one that never tips).

    Raises:
        PatternDataError: the tables lack a column or a year the statistic needs.
        KeyError: an unknown statistic kind.
    """
    return STATISTICS[stat["kind"]](stat, runs, steps, agents)


def matches(stat: Mapping[str, Any], observed: bool, runs: pd.DataFrame, steps: pd.DataFrame,
            agents: pd.DataFrame | None) -> pd.Series:
    """Whether each run matches the pattern (its value equals ``observed``); NA: no value."""
    return statistic(stat, runs, steps, agents) == observed


def proportion(flags: pd.Series) -> dict[str, Any]:
    """P(match) over the runs that have a value, its 95% Wilson interval and the counts."""
    valid = flags.dropna().astype(bool)
    k, n = int(valid.sum()), len(valid)
    lo, hi = wilson_interval(k, n)
    return {"matches": k, "runs": n, "p_match": k / n if n else float("nan"),
            "ci_low": lo, "ci_high": hi}


def joint(flags: pd.DataFrame) -> pd.Series:
    """Per run: whether it matches every pattern (the columns of ``flags``).

    NA for a run without a value for some pattern (it never tipped), so the joint
    probability is over the runs to which every pattern applies.
    """
    applies = flags.notna().all(axis=1)
    both = flags.fillna(False).astype(bool).all(axis=1).astype("boolean")
    return both.where(applies, pd.NA)


def drop_p_value(k_full: int, n_full: int, k: int, n: int) -> float:
    """One-sided p-value that P(match) is lower with ``k`` of ``n`` than ``k_full`` of ``n_full``.

    Fisher's exact test (scipy), alternative "greater" for the full model. Under common
    random numbers the two samples are positively correlated, which this test ignores: it
    is then conservative (a drop it calls significant is one).
    """
    if n == 0 or n_full == 0:
        return float("nan")
    table = [[k_full, n_full - k_full], [k, n - k]]
    return float(fisher_exact(table, alternative="greater").pvalue)


def drops(k_full: int, n_full: int, k: int, n: int, alpha: float = ALPHA) -> bool:
    """Whether P(match) drops significantly (:func:`drop_p_value` below ``alpha``)."""
    p = drop_p_value(k_full, n_full, k, n)
    return bool(p < alpha)


# --------------------------------------------------------------------------- reports


def needed_for(ablation: pd.DataFrame) -> dict[str, list[str]]:
    """For each mechanism of an ablation table, the patterns whose P(match) drops without it."""
    out: dict[str, list[str]] = {}
    for mechanism, rows in ablation.groupby("mechanism", sort=False):
        out[str(mechanism)] = rows.loc[rows["drops"].astype(bool), "pattern"].tolist()
    return out


def _pct(value: float) -> str:
    return "—" if pd.isna(value) else f"{value:.1%}"


def format_report(patterns: pd.DataFrame, joint_table: pd.DataFrame,
                  ablation: pd.DataFrame, meta: Mapping[str, Any]) -> str:
    """The text ``normsim patterns`` prints, from its tables."""
    lines = [f"normsim {meta['normsim']} · patterns {meta['pattern_file']} · "
             f"{meta['replicates']} runs per scenario · master seed {meta['seed']}"]
    number = {pid: i + 1 for i, pid in enumerate(patterns["pattern"])}
    width = max(24, *(len(p) for p in patterns["pattern"]))
    for scenario, rows in patterns.groupby("scenario", sort=False):
        lines += ["", f"{scenario}",
                  f"  {'#':>2}  {'pattern':<{width}}  {'level':<11}  P(match)  95% CI"
                  f"            tolerance  holds"]
        for row in rows.itertuples():
            if row.note:
                lines.append(f"  {number[row.pattern]:>2}  {row.pattern:<{width}}  "
                             f"{row.level:<11}  {row.note}")
                continue
            ci = f"[{_pct(row.ci_low)}, {_pct(row.ci_high)}]"
            share = "" if row.runs == meta["replicates"] else f"   (of {row.runs} runs " \
                "with a value)"
            lines.append(f"  {number[row.pattern]:>2}  {row.pattern:<{width}}  {row.level:<11}"
                         f"  {_pct(row.p_match):>7}   {ci:<16}  {row.tolerance:>8.0%}  "
                         f"{'yes' if row.holds else 'NO'}{share}")
        for j in joint_table[(joint_table["scenario"] == scenario)
                             & (joint_table["patterns"] > 1)].itertuples():
            what = f"all {j.patterns} patterns (joint)"
            if j.patterns < j.of_patterns:
                what = f"all {j.patterns} evaluable patterns of {j.of_patterns} (joint)"
            ci = f"[{_pct(j.ci_low)}, {_pct(j.ci_high)}]"
            lines.append(f"      {what:<{width + 13}}  {_pct(j.p_match):>7}   {ci}")
    left_out = meta.get("not_represented") or []
    if left_out:
        lines += ["", "Not represented:"]
        for p in left_out:
            lines += textwrap.wrap(f"{p['id']}: {p['reason']}", 96, initial_indent="  ",
                                   subsequent_indent="    ")
    if ablation.empty:
        return "\n".join(lines)
    lines += ["", *textwrap.wrap(
        "Mechanism necessity: P(match) with the mechanism switched off; * = significantly "
        f"below the full model ({meta['test']}; the same seeds in every row)", 98)]
    ids = list(number)
    header = f"  {'mechanism':<24}" + "".join(f"{number[p]:>8}" for p in ids) + "  needed for"
    lines.append(header)
    full = patterns.set_index("pattern")["p_match"]
    lines.append(f"  {'(full model)':<24}" + "".join(f"{_pct(full[p]) + ' ':>8}" for p in ids))
    cells = ablation.set_index(["mechanism", "pattern"])
    needs = needed_for(ablation)
    for mechanism, needed in needs.items():
        row = f"  {mechanism:<24}"
        for p in ids:
            if (mechanism, p) not in cells.index:
                row += f"{'':>8}"
                continue
            cell = cells.loc[(mechanism, p)]
            row += f"{_pct(cell['p_match']) + ('*' if cell['drops'] else ' '):>8}"
        row += "  " + (", ".join(str(number[p]) for p in needed) if needed
                       else "none  <- needed for no pattern")
        lines.append(row)
    if "checks" in patterns.columns:
        marked = patterns[patterns["checks"] == "initial_condition"]
        for why, rows in marked.groupby("why", sort=False):
            which = ", ".join(str(number[p]) for p in rows["pattern"])
            lines += ["", *textwrap.wrap(
                f"Pattern{'s' if len(rows) > 1 else ''} {which} check"
                f"{'' if len(rows) > 1 else 's'} the initial condition, not a mechanism: "
                f"{why}", 98, subsequent_indent="  ")]
    unneeded = [m for m, needed in needs.items() if not needed]
    if unneeded:
        lines.append(f"\nneeded for no pattern: {', '.join(unneeded)} (the ODD must say why "
                     "each stays)")
    return "\n".join(lines)
