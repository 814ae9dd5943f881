"""The region kind's result tables (runs, steps, agents) and the text of its run summary."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from normsim.analysis.intervals import probability_line, quantiles
from normsim.models.region.dynamics import ADOPTER, CASCADE, FAILED, WITHDRAWN, Summit
from normsim.models.region.norms import RegionalStage, StateStage
from normsim.results import nullable

if TYPE_CHECKING:
    from normsim.results import Results

STAGE_NAMES = [s.name.lower() for s in StateStage]
REGIONAL_NAMES = [s.name.lower() for s in RegionalStage]
SUMMIT_NAMES = [None, *(s.name.lower() for s in Summit if s is not Summit.NONE)]
"""The ``summit`` column's values by Summit code: null (no proposal), adopted, failed,
withdrawn."""


def _names(codes: np.ndarray, names: tuple[str | None, ...] | list[str | None]) -> Any:
    """Map integer codes to names, -1 (or code 0 of SUMMIT_NAMES) to null.

    A string column even when every value is null, so that result chunks concatenate.
    """
    lookup = np.asarray([*names, None], dtype=object)  # index -1 is the trailing None
    return pd.array(lookup[np.asarray(codes)], dtype="string")

class _Columns(frozenset[str]):
    """A set of column names that also holds every ``norm_<key>``: a declared norm's column."""

    def __contains__(self, name: object) -> bool:
        return super().__contains__(name) or (isinstance(name, str)
                                              and name.startswith("norm_"))


COLUMNS = _Columns({
    "cascade_reached",
    "tipping_step",
    "tipping_year",
    "peak_adopter_share",
    "final_adopter_share",
    "institutional_adoption",
    "adoption_year",
    "blockers",
    "adoption_order",
    "proposals",
    "step",
    "year",
    "adopter_share",
    "mean_support",
    "regional_stage",
    "proposal_tabled",
    "summit",
    "version_tabled",
    "institution_version",
    "version_adopted",
    "withdrawals",
    "failed_votes",
    *(f"n_{s}" for s in STAGE_NAMES),
})
"""The outcome columns of the runs and steps tables (besides run_id, replicate, seed), and
``norm_<key>`` for each prior norm a scenario declares (``in`` says so for any key)."""


def tables(
    arrays: dict[str, np.ndarray],
    codes: tuple[str, ...],
    start_year: int,
    seeds: list[int],
    run_ids: list[int],
    replicates: list[int],
    with_agents: bool,
    *,
    norm_keys: tuple[str, ...],
    version_keys: tuple[str, ...],
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
    """Build the runs, steps and agents tables from stacked trajectories (R, T + 1, ...).

    ``norm_keys`` are the scenario's declared prior norms, in the order of the norm axis:
    each gets a ``norm_<key>`` column (mean strength in steps, each state's in agents).
    ``version_keys`` name the proposal's versions, most ambitious first (``version_tabled``,
    ``institution_version``, ``version_adopted``).
    """
    stage, regional = arrays["stage"], arrays["regional"]
    r, t1, n = stage.shape
    adopted = stage >= ADOPTER  # plain-int codes: see normsim.models.region.dynamics
    share = adopted.mean(axis=2)
    tipped = regional >= CASCADE
    tipping_step = np.where(tipped.any(axis=1), tipped.argmax(axis=1), -1)
    institution = arrays["institution"]
    adoption_step = np.where(institution.any(axis=1), institution.argmax(axis=1), -1)
    first_adoption = np.where(adopted.any(axis=1), adopted.argmax(axis=1), -1)  # (R, N)

    # The blockers of each run's last failed vote, and the order of first adoption.
    failed = arrays["tabled"] & ~institution
    any_failed = failed.any(axis=1)
    last_failed = t1 - 1 - failed[:, ::-1].argmax(axis=1)
    blocked = arrays["blockers"][np.arange(r), last_failed] & any_failed[:, None]
    never = np.iinfo(np.int32).max
    order = np.argsort(np.where(first_adoption >= 0, first_adoption, never), axis=1,
                       kind="stable")
    names = np.asarray(codes, dtype=object)
    blockers = [names[row].tolist() for row in blocked]
    counts = (first_adoption >= 0).sum(axis=1)
    orders = [names[row[:k]].tolist() for row, k in zip(order, counts, strict=True)]

    runs = pd.DataFrame({
        "run_id": run_ids,
        "replicate": replicates,
        "seed": pd.array(seeds, dtype="int64"),
        "cascade_reached": tipping_step >= 0,
        "tipping_step": nullable(tipping_step, tipping_step < 0),
        "tipping_year": nullable(start_year + tipping_step, tipping_step < 0),
        "peak_adopter_share": share.max(axis=1),
        "final_adopter_share": share[:, -1],
        "institutional_adoption": adoption_step >= 0,
        "adoption_year": nullable(start_year + adoption_step, adoption_step < 0),
        "blockers": blockers,
        "adoption_order": orders,
        "proposals": arrays["tabled"].sum(axis=1),
        "version_adopted": _names(arrays["institution_version"][:, -1], version_keys),
        "withdrawals": (arrays["summit"] == WITHDRAWN).sum(axis=1),
        "failed_votes": (arrays["summit"] == FAILED).sum(axis=1),
    }, copy=False)  # fresh arrays: no copy, no block consolidation (half the time)

    step_index = np.tile(np.arange(t1), r)
    run_index = np.repeat(np.arange(r), t1)
    stage_counts = {f"n_{name}": (stage == code).sum(axis=2).ravel()
                    for code, name in enumerate(STAGE_NAMES)}
    mean_norms = arrays["norms"].mean(axis=2)  # (R, T + 1, K)
    steps = pd.DataFrame({
        "run_id": np.asarray(run_ids)[run_index],
        "seed": pd.array(np.asarray(seeds)[run_index], dtype="int64"),
        "step": step_index,
        "year": start_year + step_index,
        "adopter_share": share.ravel(),
        "mean_support": arrays["support"].mean(axis=2).ravel(),
        **stage_counts,
        "regional_stage": pd.Categorical.from_codes(regional.ravel(), REGIONAL_NAMES),
        **{f"norm_{k}": mean_norms[:, :, j].ravel() for j, k in enumerate(norm_keys)},
        "proposal_tabled": arrays["tabled"].ravel(),
        "summit": _names(arrays["summit"].ravel(), SUMMIT_NAMES),
        "version_tabled": _names(arrays["version_tabled"].ravel(), version_keys),
        "institution_version": _names(arrays["institution_version"].ravel(), version_keys),
    }, copy=False)

    agents = None
    if with_agents:
        cells = r * t1 * n
        agents = pd.DataFrame({
            "run_id": np.repeat(np.asarray(run_ids), t1 * n),
            "seed": pd.array(np.repeat(np.asarray(seeds), t1 * n), dtype="int64"),
            "step": np.tile(np.repeat(np.arange(t1), n), r),
            "year": start_year + np.tile(np.repeat(np.arange(t1), n), r),
            "state": pd.Categorical.from_codes(np.tile(np.arange(n), r * t1), list(codes)),
            "support": arrays["support"].reshape(cells),
            "stage": pd.Categorical.from_codes(stage.reshape(cells), STAGE_NAMES),
            **{f"norm_{k}": arrays["norms"][..., j].reshape(cells)
               for j, k in enumerate(norm_keys)},
            "blocked": arrays["blockers"].reshape(cells),
            "threshold": arrays["threshold"].reshape(cells),
        }, copy=False)
    return runs, steps, agents


def _histogram(years: pd.Series, width: int = 30) -> list[str]:
    counts = Counter(years.dropna().astype(int))
    if not counts:
        return []
    top = max(counts.values())
    lines = []
    for year in range(min(counts), max(counts) + 1):
        bar = "#" * max(1 if counts[year] else 0, round(width * counts[year] / top))
        lines.append(f"    {year}  {bar} {counts[year]}")
    return lines




def _tipping_point(data: dict[str, Any], n_states: int, held: int) -> str:
    """The tipping point in words: a count of states (and how many more), or a share."""
    share = data["region"]["tipping_share"]
    weights = {float(s.get("tipping_weight", 1.0)) for s in data["states"].values()}
    if len(weights) == 1 or data["region"].get("tipping_rule") == "count":
        needed = next((k for k in range(n_states + 1) if k / n_states >= share), None)
        if needed is not None:
            more = f" ({needed - held} more)" if needed > held else " (reached at the start)"
            return f"tipping at {needed} of {n_states}{more}"
    return f"tipping at a weighted adopter share of {share:.0%}"


def _start_adopters(results: Results) -> pd.Series:
    """Per state code, the share of runs in which it holds the norm at step 0.

    ``adoption_order`` lists a run's adopters by their first step of adoption, so its first
    ``n_adopter + n_internalized`` (of step 0) are the adopters at the start.
    """
    steps, runs = results.steps, results.runs
    first = steps.loc[steps["step"] == 0].set_index("run_id")
    held = (first["n_adopter"] + first["n_internalized"]).reindex(runs["run_id"]).to_numpy()
    tally = Counter(c for order, k in zip(runs["adoption_order"], held, strict=True)
                    for c in order[: int(k)])
    return pd.Series(tally, dtype=float) / max(len(runs), 1)


def _summits(runs: pd.DataFrame, data: dict[str, Any], end: int) -> list[str]:
    """How the summits went: failed votes, withdrawals, and the versions adopted."""
    n = len(runs)
    start_version = data["norm"]["adopted"]
    lines = [f"Summits: a vote failed in {(runs['failed_votes'] > 0).mean():.1%} of runs, a "
             f"proposal was withdrawn in {(runs['withdrawals'] > 0).mean():.1%}",
             f"  most ambitious version adopted by {end}"
             + (f" ({start_version} held from the start):" if start_version else ":")]
    adopted = runs["version_adopted"].fillna("none").value_counts()
    for version in [v["key"] for v in data["norm"]["versions"]] or ["norm"]:
        if version == start_version:
            break
        lines.append(f"    {version:<18} {adopted.get(version, 0) / n:6.1%}")
    return lines


def summarize(results: Results) -> str:
    """The text summary of a regional run that ``normsim run`` prints."""
    runs, meta = results.runs, results.metadata
    data = meta["scenario_resolved"]
    start, end = data["start_year"], data["start_year"] + meta["steps"]
    codes = list(data["states"])
    n = len(runs)
    at_start = _start_adopters(results).reindex(codes, fill_value=0.0)
    usual = [c for c in codes if at_start[c] > 0.5]
    lines = [
        f"normsim {meta['normsim_version']} · scenario {meta['scenario_name']} "
        f"({start}–{end}) · {n} runs · master seed {meta['master_seed']} · "
        f"engine {meta['engine']}",
        "",
        f"adopters at the start ({start}): {', '.join(usual) or 'none'} ({len(usual)} of "
        f"{len(codes)}{' in most runs' if any(0 < at_start[c] < 1 for c in codes) else ''}); "
        f"{_tipping_point(data, len(codes), len(usual))}",
        probability_line(f"P(cascade by {end})", runs["cascade_reached"]),
        f"  tipping year (runs that tipped)   {quantiles(runs['tipping_year'], '.0f')}",
        *_histogram(runs["tipping_year"]),
        probability_line(f"P(institutional adoption by {end})", runs["institutional_adoption"]),
        f"  adoption year                     {quantiles(runs['adoption_year'], '.0f')}",
    ]
    lines += ["", *_summits(runs, data, end)]
    voted = runs[runs["blockers"].map(len) > 0]
    lines += ["", "Blockers at the last proposal voted down or withdrawn (share of the "
              f"{len(voted)} runs with one):"]
    tally = Counter(code for blockers in voted["blockers"] for code in blockers)
    if tally:
        lines += [f"  {code}  {count / len(voted):6.1%}" for code, count in tally.most_common(5)]
    else:
        lines.append("  no proposal failed")
    ranks: dict[str, list[int]] = {c: [] for c in codes}
    for order in runs["adoption_order"]:
        for rank, code in enumerate(order):
            ranks[code].append(rank)
    lines += [
        "",
        f"Adoption order: 'by {end}' is P(adopts by the horizon), the share of runs in which the",
        f"state holds the norm at any step from {start} (step 0) on; 'at the start', the share",
        f"in which it already holds it in {start} (support >= its threshold, drawn per run)",
        f"  {'state':<5}  {f'by {end}':>7}  {'at the start':>12}  median rank among adopters",
    ]
    for code in sorted(codes, key=lambda c: (-len(ranks[c]), np.median(ranks[c] or [99]))):
        rank = f"{np.median(ranks[code]) + 1:.0f}" if ranks[code] else "—"
        held = f"{at_start[code]:.1%}" if at_start[code] else "—"
        lines.append(f"  {code:<5}  {len(ranks[code]) / n:>7.1%}  {held:>12}  {rank}")
    common = Counter(tuple(o[:4]) for o in runs["adoption_order"] if len(o) >= 4)
    if common:
        order, count = common.most_common(1)[0]
        lines.append(f"  most frequent first four: {' > '.join(order)} "
                     f"({count / n:.1%} of runs)")
    return "\n".join(lines)
