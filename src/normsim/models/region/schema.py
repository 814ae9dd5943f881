"""The regional scenario schema: every key's default, range, meaning and source, and the levers.

A regional scenario is data: its members (any codes), the prior norms the proposed norm
meets (declared under ``norms``, each with a name, meaning and source) and its decision rule
(``region.decision``). Every norm-keyed number (``norm.conflict.<KEY>``,
``states.<CODE>.norms.<KEY>``, ...) is keyed by the declared norms.
``docs/ODD.md``'s parameter table is generated from :data:`REGION` (``normsim params``).
:func:`check` holds the checks across keys that the per-key schema cannot see;
:data:`LEVERS` and :func:`lever_overrides` are the flat levers shared by the Mesa model's
keyword parameters and sweep files.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from normsim.models.region.norms import Framing, Strategy
from normsim.models.region.params import DEFAULT_VERSION
from normsim.schema import (
    Choice,
    Code,
    Flag,
    KeyMap,
    ListOf,
    Num,
    Section,
    Spec,
    StateMap,
    Tagged,
    Text,
    _Context,
    _prob,
    _rate,
    _year,
)

if TYPE_CHECKING:
    from normsim.scenario import Scenario


DECISION_RULES: tuple[str, ...] = ("consensus", "max_objectors", "qualified_majority")
"""The decision rules a summit can vote by (``region.decision.rule``); see ``_summit``."""

MECHANISMS: dict[str, str] = {
    "persuasion": "entrepreneurs' lobbying pulls their targets' support (Finnemore & "
                  "Sikkink 1998; 002:284–289, 002:776–778)",
    "commitment": "an active entrepreneur that holds the norm is bound by its advocacy: a "
                  "pull on its own support, ideational commitment (002:166–171)",
    "neighbour_influence": "adopting neighbours pull a state's support along ties "
                           "(Watts 2002; Centola & Macy 2007)",
    "cascade_socialization": "after the tipping point the adopter share pulls every "
                             "state: conformity, legitimation, esteem (Finnemore & "
                             "Sikkink 1998; 002:276–284)",
    "prestige": "prestige and status from peacekeeping pull support (002:739–744; 000:95)",
    "salience": "crisis, UN-partnership and rivalry salience pull support (002:744–750; "
                "002:733–735; 004:1074)",
    "norm_resistance": "the prior norms push support down, each a channel n_ik c_k "
                       "(002:809–886, 002:888–891)",
    "regime_fear": "regime insecurity adds to the clash: an instrument 'turned against "
                   "them' (001:1 c.2126)",
    "identity_drift": "holding the norm relaxes the conflicting prior norms, and they "
                      "recover when it is dropped (002:899–908)",
    "reversal": "an adopter whose support falls below threshold minus the reversal margin "
                "reverts (Finnemore & Sikkink 1998: before internalization)",
    "internalization": "states and the region internalize the norm (taken for granted, "
                       "002:276–284); off: nobody does",
    "versions": "the summit may adopt a lesser version of the proposal (002:480–484); off: "
                "only the most ambitious version is put forward",
    "withdrawal": "a proposer withdraws a proposal it foresees blocked (001:1 c.1776–2060); "
                  "off: every proposal is voted on",
    "threshold_heterogeneity": "thresholds differ by state and are perturbed per run; off: "
                               "every state at the mean threshold, no perturbation",
    "noise": "yearly support noise of sd dynamics.noise; off: none",
}
"""The mechanisms a scenario can switch off (``mechanisms.<name>: false``), with meaning and
source; the order of :data:`normsim.models.region.dynamics.MECHANISMS`."""

VERSION = Section(
    {
        "key": Text(None, "The version's key (a short name used in the result tables)."),
        "name": Text(None, "The version in words."),
        "conflict_scale": Num(None, 0.0, 1.0, "Its clash (and regime fear) relative to the "
                              "norm itself: 1 for the most ambitious version; a state's "
                              "support for it is s / (s + scale (1 - s)).", "scenario",
                              lo_open=True),
        "source": Text(None, "Where the version comes from (seed key:line, or assumption)."),
        "from": _year("First year the version can be put to a summit: when it was first "
                      "drafted (null: from the start).", True),
    },
    "A version of the proposal, from the norm itself down to lesser commitments.",
    required=("key", "name", "conflict_scale", "source"),
)

PRIOR_NORM = Section(
    {
        "name": Text(None, "The prior norm's name in words."),
        "meaning": Text(None, "What the norm asks of members, and why it obstructs the "
                        "proposed norm."),
        "source": Text(None, "Where the norm and its reading come from (seed key:line, "
                       "literature, or assumption)."),
    },
    "A prior norm the proposed norm meets, keyed by a name used in every norm-keyed map.",
    required=("name", "meaning", "source"),
)


STATE = Section(
    {
        "name": Text(None, "Full name (defaults to the code)."),
        "cohort": Text("", "Membership cohort; states of one cohort trust each other more."),
        "subregion": Text("", "Subregion (e.g. mainland, maritime); same-subregion ties."),
        "personnel": Num(0, 0, 1e6, "Uniformed UN peacekeepers (drawn as node size).",
                         "per state", integer=True),
        "regime_insecurity": _prob(0.5, "Fear that a force is turned against the regime "
                                   "(001:1 c.2126; 002:229–236)."),
        "prestige_motive": _prob(0.5, "Weight of prestige and status from peacekeeping "
                                 "(002:739–744; 000:95)."),
        "support": _prob(0.1, "Initial support for the proposed norm."),
        "threshold": _prob(0.5, "Support at which the state adopts (Granovetter 1978)."),
        "tipping_weight": Num(1.0, 0.0, 100.0, "Weight in the tipping share: Finnemore & "
                              "Sikkink's 'critical states' (default: every state counts once)."),
        "position": ListOf(Num(None, -360.0, 360.0, "A coordinate."), "Where the browser "
                           "page draws the state: longitude and latitude (empty: a layout "
                           "of the tie network)."),
        "norms": KeyMap(
            Num(None, 0.0, 1.0, "Strength of the state's attachment to this prior norm "
                "(declared under norms); required for every declared norm.", "per state"),
            "Strength of each prior norm, 0–1.", of="norms"),
    },
    "A member state.",
)

ENTREPRENEUR = Section(
    {
        "from": _year("First year of advocacy (default: the start year).", True),
        "until": _year("Last year of advocacy (default: open-ended).", True),
        "intensity": _rate(0.3, "Total persuasion effort per year, shared among targets."),
        "strategy": Choice(tuple(s.value for s in Strategy), "all", "Whom to lobby."),
        "targets": Num(3, 1, 1000, "How many states a targeted strategy lobbies.",
                       integer=True),
        "credibility": _prob(0.8, "How far the entrepreneur's arguments carry."),
    },
    "A norm entrepreneur's role, keyed by its state code.",
)

_YEAR = _year("Year of the event (after start_year).")
EVENT = Tagged(
    "type",
    {
        "crisis": Section({"year": _YEAR, "magnitude": _rate(0.5, "Crisis salience pulse.")},
                          required=("year",)),
        "un_push": Section({"year": _YEAR, "magnitude": _rate(0.5, "UN-partnership pulse.")},
                           required=("year",)),
        "rivalry": Section({"year": _YEAR, "magnitude": _rate(0.3, "Rivalry salience change.")},
                           required=("year",)),
        "regime_change": Section(
            {"year": _YEAR, "state": Code("Whose regime changes."),
             "regime_insecurity": _prob(0.5, "The new regime's insecurity.")},
            required=("year", "state", "regime_insecurity"),
        ),
        "proposal": Section({"year": _YEAR, "by": Code("Who tables the proposal.")},
                            required=("year", "by")),
        "cooperation": Section(
            {"year": _YEAR, "tie_change": Num(0.05, -1.0, 1.0, "Change of every tie.")},
            required=("year",),
        ),
    },
    "A scheduled exogenous event.",
)

REGION = Section(
    {
        "kind": Choice(("region",), "region", "Scenario kind."),
        "name": Text(None, "Scenario name (defaults to the file name)."),
        "description": Text("", "What the scenario represents."),
        "start_year": Num(None, 1900, 2300, "Year of the initial condition (step 0).",
                          "scenario", integer=True),
        "end_year": Num(None, 1900, 2300, "Horizon: the last simulated year.", "scenario",
                        integer=True),
        "norm": Section(
            {
                "name": Text("proposed norm", "The proposed norm."),
                "framing": Choice(tuple(f.value for f in Framing), "standard",
                                  "Framing of the proposed norm (Acharya 2004)."),
                "conflict": KeyMap(
                    Num(None, 0.0, 1.0, "Conflict of the proposed norm with this prior norm: "
                        "how strongly the prior norm obstructs it; required for every "
                        "declared norm.", "scenario"),
                    "Clash of the proposed norm with each prior norm, 0–1.", of="norms"),
                "combination": Section(
                    {
                        "rule": Choice(("mean", "max", "power_mean"), "mean", "How a "
                                       "state's norm-conflict channels n_ik c_k combine: "
                                       "compensatory mean, the strongest clash alone (max), "
                                       "or the power mean between them.", "scenario"),
                        "exponent": Num(4.0, 1.0, 100.0, "power_mean: the exponent p of "
                                        "(mean c^p)^(1/p); 1 is the mean, large p nears the "
                                        "max."),
                    },
                    "How the channels of the prior norms combine into one clash.",
                ),
                "versions": ListOf(VERSION, "The versions a summit can adopt, most ambitious "
                                   "first, the first with conflict_scale 1 (empty: the norm "
                                   "itself only, keyed `norm`); the summit adopts the most "
                                   "ambitious one the decision rule accepts (002:480–484)."),
                "adopted": Text(None, "The most ambitious version already adopted at the "
                                "start (a version key; null: none): a summit then considers "
                                "only the more ambitious ones."),
                "regime_clash": Text("", "The declared norm whose clash regime insecurity "
                                     "adds to; localized framing eases regime fear as it "
                                     "eases this clash (empty: framing leaves regime fear "
                                     "as it is)."),
                "localization": Section(
                    {
                        "conflict_reduction": KeyMap(
                            Num(0.0, 0.0, 1.0, "Share of the conflict with this prior norm "
                                "that localized framing removes (Acharya 2004).", "scenario"),
                            "Share of each clash that localized framing removes.", of="norms"),
                        "appeal": _prob(0.8, "Pull of the localized norm relative to the "
                                        "standard one: the price of a weaker norm."),
                    },
                    "Norm localization (Acharya 2004).",
                ),
            },
            "The proposed norm.",
        ),
        "region": Section(
            {
                "tipping_share": Num(1 / 3, 0.0, 1.0, "Tipping point: adopter share (weighted "
                                     "by tipping_weight) >= this; 1/3 of 10 means 4 states, "
                                     "1 means all.", "002:281–283", lo_open=True),
                "tipping_rule": Choice(("count", "weighted"), "weighted", "count: every "
                                       "member counts once (adopters / N); weighted: by "
                                       "states.<CODE>.tipping_weight, Finnemore & Sikkink's "
                                       "'critical states'.", "scenario"),
                "internalization_share": _prob(0.8, "Share of internalized states at which "
                                               "the region reaches internalization."),
                "summit_interval": Num(1, 1, 10, "Years between summits.", "002:480–481",
                                       integer=True),
                "decision": Section(
                    {
                        "rule": Choice(DECISION_RULES, "consensus", "How a summit decides: "
                                       "no objector (consensus), at most `objectors` "
                                       "objectors, or a qualified majority in favour and no "
                                       "veto.", "scenario"),
                        "objectors": Num(None, 0, 1000, "max_objectors: the objections a "
                                         "decision survives (required with that rule only).",
                                         "scenario", integer=True, nullable=True),
                        "share": Num(None, 0.0, 1.0, "qualified_majority: share of members "
                                     "in favour (adopters) needed, rounded up to a count: "
                                     "0.6 of 15 is 9 (required with that rule only).",
                                     "scenario", nullable=True, lo_open=True),
                        "veto": ListOf(Code("A veto holder: a member whose objection alone "
                                            "blocks."), "qualified_majority: the veto holders "
                                       "(members; with that rule only)."),
                    },
                    "The decision rule of a summit vote.",
                ),
                "acquiescence_margin": _prob(0.1, "A non-adopter within this margin of its "
                                             "threshold does not object (under every rule)."),
                "table_when_tipped": Flag(True, "Active entrepreneurs table the proposal "
                                          "while the region is in cascade."),
                "retable_interval": Num(3, 1, 100, "Minimum years between tabled proposals.",
                                        integer=True),
                "withdrawal_margin": _prob(0.1, "Foresight of a proposer: in consultation it "
                                           "counts as clear objectors those below their "
                                           "threshold by more than the acquiescence margin "
                                           "plus this, and withdraws a proposal every "
                                           "version of which they would block."),
            },
            "The region and its decision rule.",
        ),
        "dynamics": Section(
            {
                "neighbour_influence": _rate(0.05, "Pull of adopting neighbours (Watts 2002)."),
                "cascade_socialization": _rate(0.15, "Pull after tipping: conformity, "
                                               "legitimation, esteem (Finnemore & Sikkink)."),
                "prestige": _rate(0.03, "Pull of prestige and status incentives "
                                  "(002:739–744, 002:954–957)."),
                "resistance": _rate(0.15, "Push of the core norms against the new norm "
                                    "(002:888–891)."),
                "regime_fear": _rate(0.5, "Weight of regime insecurity in the clash with "
                                     "non-interference (001:1 c.2126)."),
                "crisis_response": _rate(0.1, "Pull of crisis salience (002:744–750)."),
                "un_response": _rate(0.03, "Pull of UN partnership: a force to support the "
                                     "UN (002:733–735); the UN as trust broker (000:171)."),
                "rivalry_response": _rate(0.05, "Pull of great-power rivalry (004:1074)."),
                "commitment": _rate(0.4, "Pull on the support of an active entrepreneur "
                                    "that holds the norm: ideational commitment "
                                    "(002:166–171)."),
                "identity_drift": _prob(0.03, "Yearly drift of core norms towards the "
                                        "identity implied by the state's stage."),
                "noise": _prob(0.03, "Standard deviation of the yearly support shock, on the "
                               "0–1 support scale (0.03: about 3 points of support a year, "
                               "small beside the 0.1 acquiescence margin)."),
                "threshold_sd": _prob(0.05, "Per-replicate uncertainty of thresholds (sd)."),
                "reversal_margin": _prob(0.1, "An adopter reverts below threshold minus this."),
                "internalization_years": Num(10, 1, 500, "Least consecutive years of "
                                             "adoption before a state can internalize the "
                                             "norm.", integer=True),
                "internalization_relaxation": _prob(0.2, "Internalization needs the state's "
                                                    "combined clash to have fallen by this "
                                                    "share since it adopted (identity "
                                                    "drift): the norm is taken for granted."),
                "salience_half_life": Section(
                    {
                        "crisis": Num(2.0, 0.0, None, "Half-life of crisis salience (years); "
                                      "null = no decay.", nullable=True, lo_open=True),
                        "un_partnership": Num(3.0, 0.0, None, "Half-life of UN pushes.",
                                              nullable=True, lo_open=True),
                        "rivalry": Num(None, 0.0, None, "Half-life of rivalry salience.",
                                       nullable=True, lo_open=True),
                    },
                    "Decay of event salience.",
                ),
            },
            "Weights of the mechanisms of the support update.",
        ),
        "mechanisms": Section(
            {name: Flag(True, doc[0].upper() + doc[1:] + ".", "scenario")
             for name, doc in MECHANISMS.items()},
            "Switches of the mechanisms (all on); an ablation switches one off.",
        ),
        "salience": Section(
            {
                "crisis": _rate(0.0, "Crisis salience at the start."),
                "un_partnership": _rate(0.0, "UN-partnership salience at the start."),
                "rivalry": _rate(0.0, "Great-power rivalry salience at the start."),
            },
            "Initial salience of the exogenous channels.",
        ),
        "network": Section(
            {
                "base": _prob(0.3, "Tie weight between any two members: low trust (000:171).",
                              "000:171"),
                "same_cohort": Num(0.1, -1.0, 1.0, "Added to ties within a cohort "
                                   "(002:97–103)."),
                "same_subregion": Num(0.1, -1.0, 1.0, "Added to ties within a subregion."),
                "pairs": ListOf(
                    Section(
                        {"states": ListOf(Code("A state of the pair."),
                                          "The two states of the pair.", length=2),
                         "change": Num(0.0, -1.0, 1.0, "Added to this pair's tie.")},
                        required=("states", "change"),
                    ),
                    "Pair-specific changes (disputes, partnerships).",
                ),
            },
            "The weighted interaction network (ties clipped to [0.01, 1]).",
        ),
        "norms": KeyMap(PRIOR_NORM, "The prior norms the proposed norm meets, by key."),
        "states": StateMap(STATE, "The member states, keyed by code (e.g. ISO-3)."),
        "entrepreneurs": StateMap(ENTREPRENEUR, "Norm entrepreneurs, keyed by state code.",
                                  defined_codes=True),
        "events": ListOf(EVENT, "Scheduled events."),
    },
    "A regional norm-diffusion scenario: members, prior norms, a decision rule.",
    required=("start_year", "end_year", "states"),
)


def check(data: dict, ctx: _Context) -> None:
    """Checks across keys that the per-key schema cannot see."""
    start, end = data.get("start_year"), data.get("end_year")
    if isinstance(start, int) and isinstance(end, int):
        if end <= start:
            ctx.fail("end_year", f"{end} must be after start_year ({start})")
        for i, event in enumerate(data.get("events", [])):
            year = event.get("year")
            if isinstance(year, int) and year <= start:
                ctx.fail(f"events[{i}].year", f"{year} must be after start_year ({start})")
        for code, role in data.get("entrepreneurs", {}).items():
            first, last = role.get("from"), role.get("until")
            if isinstance(first, int) and isinstance(last, int) and last < first:
                ctx.fail(f"entrepreneurs.{code}.until", f"{last} is before from ({first})")
    _check_norm_and_rule(data, ctx)
    _check_versions(data, ctx)
    states = data.get("states")
    for code, state in (states or {}).items():
        if len(state.get("position", [])) not in (0, 2):
            ctx.fail(f"states.{code}.position", f"expected longitude and latitude (2 numbers) "
                     f"or none, got {len(state['position'])}")
    if states == {}:
        ctx.fail("states", "at least one state is required")
    elif isinstance(states, dict) and not any(
            isinstance(s.get("tipping_weight"), float) and s["tipping_weight"] > 0
            for s in states.values()):
        ctx.fail("states", "every tipping_weight is 0, so the region could never tip; "
                 "allowed: at least one state with tipping_weight > 0")


def _check_versions(data: dict, ctx: _Context) -> None:
    """Versions: unique keys, the first the norm itself (scale 1), decreasing scales."""
    versions = data.get("norm", {}).get("versions", [])
    keys = [v.get("key") for v in versions]
    if len(set(keys)) < len(keys):
        ctx.fail("norm.versions", "a version key is listed twice")
    adopted = data.get("norm", {}).get("adopted")
    if adopted is not None and adopted not in (keys or [DEFAULT_VERSION]):
        ctx.fail("norm.adopted", f"{adopted!r} is not a version of the proposal; allowed: "
                 f"null or one of {', '.join(keys or [DEFAULT_VERSION])}")
    scales = [v.get("conflict_scale") for v in versions]
    if not all(isinstance(x, float) for x in scales):
        return
    if versions and versions[0].get("from") is not None:
        ctx.fail("norm.versions[0].from", "the norm itself is on the table from the start; "
                 "allowed: null")
    if scales and scales[0] != 1.0:
        ctx.fail("norm.versions[0].conflict_scale", f"{scales[0]} must be 1: the first "
                 "version is the norm itself, the most ambitious")
    for i in range(1, len(scales)):
        if scales[i] >= scales[i - 1]:
            ctx.fail(f"norm.versions[{i}].conflict_scale", f"{scales[i]} must be below the "
                     f"previous version's ({scales[i - 1]}): most ambitious first")


def _check_norm_and_rule(data: dict, ctx: _Context) -> None:
    """The regime clash names a declared norm; each decision rule has its own keys only."""
    declared = tuple(data.get("norms", {}))
    clash = data.get("norm", {}).get("regime_clash")
    if clash and clash not in declared:
        ctx.fail("norm.regime_clash", f"unknown norm {clash!r}; declared under norms: "
                 f"{', '.join(declared) or 'none'}")
    decision = data.get("region", {}).get("decision", {})
    rule = decision.get("rule")
    for key, owner in (("objectors", "max_objectors"), ("share", "qualified_majority")):
        value = decision.get(key)
        if rule == owner and value is None:
            ctx.fail(f"region.decision.{key}", f"missing; required with rule {owner}")
        elif rule != owner and value is not None:
            ctx.fail(f"region.decision.{key}", f"only with rule {owner}, not {rule}")
    veto = decision.get("veto", [])
    if veto and rule != "qualified_majority":
        ctx.fail("region.decision.veto", f"only with rule qualified_majority, not {rule}")
    if len(set(veto)) < len(veto):
        ctx.fail("region.decision.veto", "a member is listed twice")


# --------------------------------------------------------------------------- levers


LEVERS: dict[str, str] = {
    "framing": "norm framing: standard or localized (norm localization, Acharya 2004)",
    "entrepreneur_intensity": "yearly persuasion effort of every entrepreneur",
    "strategy": "whom every entrepreneur lobbies (all, receptive, central, hardliners, "
                "coalition)",
    "tipping_share": "adopter share at which the region tips (Finnemore & Sikkink 1998)",
    "co_entrepreneur": "code of a member that joins as co-entrepreneur, with the lead "
                       "entrepreneur's role, for the whole run",
    "crisis_year": "year of a regional crisis (a crisis event of default magnitude)",
    "un_push_year": "year of a UN partnership push (an un_push event of default magnitude)",
}
"""The flat levers of the regional model and what each means; see :func:`lever_overrides`."""


def lever_overrides(
    scenario: Scenario,
    *,
    framing: str | None = None,
    entrepreneur_intensity: float | None = None,
    strategy: str | None = None,
    tipping_share: float | None = None,
    co_entrepreneur: str | None = None,
    crisis_year: int | None = None,
    un_push_year: int | None = None,
) -> dict[str, Any]:
    """Translate the flat levers (:data:`LEVERS`) into dotted-key scenario overrides.

    Used by the Mesa model's keyword parameters and by sweep files alike, so a lever means
    the same thing everywhere. ``None`` (or ``""`` for the co-entrepreneur) leaves the
    scenario as it is.

    Args:
        scenario: the scenario the levers act on.
        framing: ``standard`` or ``localized`` (norm localization, Acharya 2004).
        entrepreneur_intensity: yearly persuasion effort of every entrepreneur.
        strategy: whom every entrepreneur lobbies.
        tipping_share: adopter share at which the region tips into cascade.
        co_entrepreneur: a member that joins with the lead entrepreneur's role (in the ASEAN
            case Malaysia in 2015, 002:729–735).
        crisis_year: year of a regional crisis: salience pulse (in the ASEAN case East Timor
            1999, 002:641).
        un_push_year: year of a UN partnership push (HIPPO 2015, 000:17).

    Returns:
        Overrides for :meth:`Scenario.with_overrides`.
    """
    data = scenario.data
    overrides: dict[str, Any] = {}
    if framing is not None:
        overrides["norm.framing"] = framing
    if tipping_share is not None:
        overrides["region.tipping_share"] = tipping_share
    entrepreneurs = dict(data["entrepreneurs"])
    if co_entrepreneur and co_entrepreneur not in entrepreneurs:
        lead = next(iter(entrepreneurs.values()), {})
        entrepreneurs[co_entrepreneur] = {**lead, "from": None, "until": None}
    for code in entrepreneurs:
        role = dict(entrepreneurs[code])
        if entrepreneur_intensity is not None:
            role["intensity"] = entrepreneur_intensity
        if strategy is not None:
            role["strategy"] = strategy
        entrepreneurs[code] = role
    if entrepreneurs != data["entrepreneurs"]:
        overrides["entrepreneurs"] = entrepreneurs
    extra = [{"type": kind, "year": year} for kind, year in
             (("crisis", crisis_year), ("un_push", un_push_year)) if year is not None]
    if extra:
        overrides["events"] = [*data["events"], *extra]
    return overrides


def lever_spec(scenario: Scenario | None, lever: str) -> Spec | None:
    """The schema entry that says a lever's allowed values, or None if it has none.

    Every entrepreneur's role has the same schema entry, so the intensity and strategy
    levers read it from the entrepreneurs' section; the years are an event's year; the
    co-entrepreneur is a state code defined under ``states``.
    """
    match lever:
        case "framing":
            return REGION.fields["norm"].fields["framing"]
        case "tipping_share":
            return REGION.fields["region"].fields["tipping_share"]
        case "entrepreneur_intensity":
            return ENTREPRENEUR.fields["intensity"]
        case "strategy":
            return ENTREPRENEUR.fields["strategy"]
        case "crisis_year" | "un_push_year":
            return EVENT.variants["crisis"].fields["year"]
        case "co_entrepreneur":
            return Code("A state that joins as co-entrepreneur.")
    return None
