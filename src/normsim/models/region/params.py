"""From a validated ASEAN scenario to the arrays the update rule reads (:class:`Params`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from normsim.models.region.dynamics import Entrepreneur, Event, Params
from normsim.models.region.norms import NORM_KEYS, CoreNorm, Framing, Strategy

if TYPE_CHECKING:
    from normsim.scenario import Scenario


def _tie_matrix(data: dict) -> np.ndarray:
    states, net = data["states"], data["network"]
    codes = list(states)
    n = len(codes)
    ties = np.full((n, n), net["base"])
    for key, bonus in (("cohort", net["same_cohort"]), ("subregion", net["same_subregion"])):
        group = [states[c][key] for c in codes]
        for i, j in np.ndindex(n, n):
            if group[i] and group[i] == group[j]:
                ties[i, j] += bonus
    for pair in net["pairs"]:
        i, j = (codes.index(c) for c in pair["states"])
        ties[i, j] += pair["change"]
        ties[j, i] += pair["change"] if i != j else 0.0
    np.clip(ties, 0.01, 1.0, out=ties)
    np.fill_diagonal(ties, 0.0)
    return ties


def _norm_vector(mapping: Mapping[str, float]) -> np.ndarray:
    return np.array([mapping[k] for k in NORM_KEYS], dtype=float)


def build_params(scenario: Scenario, steps: int | None = None) -> Params:
    """Turn a validated ASEAN scenario into the array form the update rule reads."""
    d = scenario.data
    states, dyn, region, norm = d["states"], d["dynamics"], d["region"], d["norm"]
    codes = tuple(states)
    index = {c: i for i, c in enumerate(codes)}
    start = d["start_year"]
    steps = scenario.steps if steps is None else steps

    def column(key: str) -> np.ndarray:
        return np.array([states[c][key] for c in codes], dtype=float)

    conflict = _norm_vector(norm["conflict"])
    appeal = 1.0
    if Framing(norm["framing"]) is Framing.LOCALIZED:
        reduction = _norm_vector(norm["localization"]["conflict_reduction"])
        non_interference = conflict[CoreNorm.NON_INTERFERENCE]
        conflict = conflict * (1.0 - reduction)
        appeal = norm["localization"]["appeal"]
        # A non-interventionist force under national command also eases regime fear.
        regime_scale = conflict[CoreNorm.NON_INTERFERENCE] / non_interference if (
            non_interference > 0) else 0.0
    else:
        regime_scale = 1.0

    entrepreneurs = tuple(
        Entrepreneur(
            state=index[code],
            first_step=max(0, (role["from"] or start) - start),
            last_step=(role["until"] - start) if role["until"] is not None else 10**9,
            intensity=role["intensity"],
            strategy=Strategy(role["strategy"]),
            targets=role["targets"],
            credibility=role["credibility"],
        )
        for code, role in d["entrepreneurs"].items()
    )
    events: dict[int, list[Event]] = {}
    for ev in d["events"]:
        kind = ev["type"]
        value = ev.get("magnitude", ev.get("regime_insecurity", ev.get("tie_change", 0.0)))
        who = ev.get("state", ev.get("by"))
        events.setdefault(ev["year"] - start, []).append(
            Event(kind, float(value), index[who] if who else -1)
        )
    half_lives = dyn["salience_half_life"]
    decay = np.array([1.0 if half_lives[k] is None else 0.5 ** (1.0 / half_lives[k])
                      for k in ("crisis", "un_partnership", "rivalry")])
    first = np.array([np.inf if states[c]["first_deployment"] is None
                      else states[c]["first_deployment"] for c in codes])
    return Params(
        codes=codes,
        start_year=start,
        steps=steps,
        norms=np.array([_norm_vector(states[c]["norms"]) for c in codes]),
        conflict=conflict,
        regime_conflict=dyn["regime_fear"] * regime_scale,
        appeal=appeal,
        support=column("support"),
        threshold=column("threshold"),
        tipping_weight=column("tipping_weight"),
        regime_insecurity=column("regime_insecurity"),
        prestige_motive=column("prestige_motive"),
        first_deployment=first,
        ties=_tie_matrix(d),
        entrepreneurs=entrepreneurs,
        events={k: tuple(v) for k, v in events.items()},
        salience=np.array([d["salience"][k] for k in ("crisis", "un_partnership", "rivalry")]),
        salience_decay=decay,
        neighbour_influence=dyn["neighbour_influence"],
        cascade_socialization=dyn["cascade_socialization"],
        prestige=dyn["prestige"],
        resistance=dyn["resistance"],
        crisis_response=dyn["crisis_response"],
        un_response=dyn["un_response"],
        rivalry_response=dyn["rivalry_response"],
        identity_drift=dyn["identity_drift"],
        noise=dyn["noise"],
        threshold_sd=dyn["threshold_sd"],
        reversal_margin=dyn["reversal_margin"],
        internalization_years=dyn["internalization_years"],
        experience_years=dyn["experience_years"],
        receptivity_floor=dyn["receptivity_floor"],
        tipping_share=region["tipping_share"],
        internalization_share=region["internalization_share"],
        summit_interval=region["summit_interval"],
        max_blockers=region["max_blockers"],
        acquiescence_margin=region["acquiescence_margin"],
        table_when_tipped=region["table_when_tipped"],
        retable_interval=region["retable_interval"],
    )
