"""From a validated regional scenario to the arrays the update rule reads (:class:`Params`)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from normsim.models.region.dynamics import MECHANISMS, Entrepreneur, Event, Params
from normsim.models.region.norms import Framing, Strategy

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


def _norm_vector(mapping: Mapping[str, float], keys: Sequence[str]) -> np.ndarray:
    return np.array([mapping[k] for k in keys], dtype=float)


def decision_arrays(decision: Mapping, codes: Sequence[str]) -> tuple[int, int, np.ndarray]:
    """The decision rule as the summit reads it: (max objectors, needed in favour, veto).

    One formula serves every rule (:func:`normsim.models.region.dynamics._summit`): a vote
    passes when at most ``max objectors`` object, at least ``needed`` members are in
    favour, and no veto holder objects. Consensus is (0, 0, none); at most k objectors is
    (k, 0, none); a qualified majority of share q is (N, ceil(q N), its veto holders), the
    count rounded up with a tolerance of 1e-9 so that 0.6 of 15 is 9.
    """
    n = len(codes)
    veto = np.zeros(n, dtype=bool)
    match decision["rule"]:
        case "consensus":
            return 0, 0, veto
        case "max_objectors":
            return int(decision["objectors"]), 0, veto
        case "qualified_majority":
            veto[[list(codes).index(c) for c in decision["veto"]]] = True
            return n, math.ceil(decision["share"] * n - 1e-9), veto
    raise ValueError(f"unknown decision rule {decision['rule']!r}")  # validation admits none


DEFAULT_VERSION = "norm"
"""The key of the one version of a scenario that declares no ``norm.versions``."""


def version_keys(data: Mapping) -> tuple[str, ...]:
    """The keys of a scenario's proposal versions, most ambitious first."""
    return tuple(v["key"] for v in data["norm"]["versions"]) or (DEFAULT_VERSION,)


def build_params(scenario: Scenario, steps: int | None = None) -> Params:
    """Turn a validated regional scenario into the array form the update rule reads."""
    d = scenario.data
    states, dyn, region, norm = d["states"], d["dynamics"], d["region"], d["norm"]
    codes = tuple(states)
    index = {c: i for i, c in enumerate(codes)}
    start = d["start_year"]
    steps = scenario.steps if steps is None else steps

    def column(key: str) -> np.ndarray:
        return np.array([states[c][key] for c in codes], dtype=float)

    keys = tuple(d["norms"])
    conflict = _norm_vector(norm["conflict"], keys)
    appeal = 1.0
    regime_scale = 1.0
    if Framing(norm["framing"]) is Framing.LOCALIZED:
        reduction = _norm_vector(norm["localization"]["conflict_reduction"], keys)
        before = conflict
        conflict = conflict * (1.0 - reduction)
        appeal = norm["localization"]["appeal"]
        # A framing that eases the clash regime fear rides on (in the ASEAN case a
        # non-interventionist force under national command) also eases regime fear.
        if norm["regime_clash"]:
            j = keys.index(norm["regime_clash"])
            regime_scale = conflict[j] / before[j] if before[j] > 0 else 0.0

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
    max_objectors, needed_in_favour, veto = decision_arrays(region["decision"], codes)
    versions = norm["versions"]
    scales = np.array([v["conflict_scale"] for v in versions] or [1.0], dtype=float)
    version_from = np.array([max(0, (v["from"] or start) - start) for v in versions] or [0])
    tipping_weight = (column("tipping_weight") if region["tipping_rule"] == "weighted"
                      else np.ones(len(codes)))
    return Params(
        codes=codes,
        start_year=start,
        steps=steps,
        norm_keys=keys,
        norms=np.array([_norm_vector(states[c]["norms"], keys) for c in codes]).reshape(
            len(codes), len(keys)),
        conflict=conflict,
        combination=norm["combination"]["rule"],
        exponent=norm["combination"]["exponent"],
        version_keys=version_keys(d),
        version_scale=scales,
        version_first_step=version_from,
        initial_version=(-1 if norm["adopted"] is None
                         else version_keys(d).index(norm["adopted"])),
        regime_conflict=dyn["regime_fear"] * regime_scale,
        appeal=appeal,
        support=column("support"),
        threshold=column("threshold"),
        tipping_weight=tipping_weight,
        regime_insecurity=column("regime_insecurity"),
        prestige_motive=column("prestige_motive"),
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
        internalization_relaxation=dyn["internalization_relaxation"],
        commitment=dyn["commitment"],
        tipping_share=region["tipping_share"],
        internalization_share=region["internalization_share"],
        summit_interval=region["summit_interval"],
        max_objectors=max_objectors,
        needed_in_favour=needed_in_favour,
        veto=veto,
        acquiescence_margin=region["acquiescence_margin"],
        table_when_tipped=region["table_when_tipped"],
        retable_interval=region["retable_interval"],
        withdrawal_margin=region["withdrawal_margin"],
        mechanisms=frozenset(m for m in MECHANISMS if d["mechanisms"][m]),
    )
