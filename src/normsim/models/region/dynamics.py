"""The update rule of the regional norm model, written once, on arrays.

Every array has a leading replicate axis ``R``, then the state axis ``N`` (the members in
the scenario's order), then, for norm strengths, the ``K`` prior norms the scenario declares
(in their declared order). The batch engine advances
thousands of replicates at once; the Mesa model advances one (``R = 1``) and shows the
result on its agents. Both call :func:`initial_state` and :func:`advance`, and both draw
their random numbers per replicate, from that replicate's own generator, in the same order,
so the same seed gives the same run whatever the engine or the batch size.

Updating is synchronous: every state reads the support, stages, norms and ties of step
``t - 1`` and all changes of step ``t`` apply together. (Reductions use ``einsum`` rather
than ``@`` so that no BLAS kernel makes a row's result depend on how many rows share the
batch; ``test_same_seed_same_run_whatever_the_batch`` holds that.)

One step is one year. Step ``t`` simulates year ``start_year + t``; step 0 is the
calibrated initial condition.

Every mechanism has an off switch (:data:`MECHANISMS`, the scenario's ``mechanisms:``
section): a switched-off mechanism contributes nothing, so an ablation is a scenario
override, not another code path.
"""

from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np

from normsim.models.region.norms import RegionalStage, StateStage, Strategy

MECHANISMS: tuple[str, ...] = (
    "persuasion", "commitment", "neighbour_influence", "cascade_socialization", "prestige",
    "salience", "norm_resistance", "regime_fear", "identity_drift",
    "reversal", "internalization", "versions", "withdrawal", "threshold_heterogeneity",
    "noise",
)
"""The mechanisms that can be switched off, in the order of the scenario's ``mechanisms:``
section (their meanings and sources are in :data:`normsim.models.region.schema.MECHANISMS`)."""

COMBINATIONS: tuple[str, ...] = ("mean", "max", "power_mean")
"""How the norm-conflict channels of a state combine into one clash (``norm.combination``)."""


class Summit(IntEnum):
    """What happened to a proposal at a step's summit (``NONE``: no proposal came)."""

    NONE = 0
    ADOPTED = 1
    """Some version was adopted (the most ambitious one the rule accepts)."""
    FAILED = 2
    """Voted on, and no version passed."""
    WITHDRAWN = 3
    """Withdrawn by its proposer, who foresaw it blocked ("taken off the table before a
    discussion could get started", 001:1 c.1776–2060)."""


class Channel(IntEnum):
    """Exogenous salience channels raised by events and decaying afterwards."""

    CRISIS = 0
    """A regional crisis: the need for a regional force (East Timor 1999; 002:641–647)."""
    UN_PARTNERSHIP = 1
    """UN pushes for regional partnership (HIPPO 2015, UN–ASEAN Plan of Action 2016)."""
    RIVALRY = 2
    """Great-power rivalry: appeal of a purely regional force (004:1074)."""


@dataclass(frozen=True)
class Entrepreneur:
    """A norm entrepreneur's role (Finnemore & Sikkink 1998; 002:284–289).

    Attributes:
        state: index of the entrepreneur's state.
        first_step: first step in which it lobbies.
        last_step: last step in which it lobbies.
        intensity: total advocacy effort per year, shared equally among its targets.
        strategy: whom it lobbies.
        targets: how many states a targeted strategy lobbies each year.
        credibility: how far its arguments carry (organisational platform, leadership).
    """

    state: int
    first_step: int
    last_step: int
    intensity: float
    strategy: Strategy
    targets: int
    credibility: float


@dataclass(frozen=True)
class Event:
    """A scheduled exogenous event, applied at the start of its step.

    Attributes:
        kind: ``crisis``, ``un_push``, ``rivalry``, ``regime_change``, ``proposal`` or
            ``cooperation``.
        value: the magnitude (salience pulse, new regime insecurity or tie change).
        state: index of the state concerned (regime change, proposer), or -1.
    """

    kind: str
    value: float = 0.0
    state: int = -1


CHANNEL_OF_EVENT = {
    "crisis": Channel.CRISIS,
    "un_push": Channel.UN_PARTNERSHIP,
    "rivalry": Channel.RIVALRY,
}


@dataclass(frozen=True)
class Params:
    """One scenario in array form, shared by all its replicates.

    Built from a validated scenario by :func:`normsim.models.region.params.build_params`; the field
    docs there name each construct and its source.
    """

    codes: tuple[str, ...]
    start_year: int
    steps: int
    norm_keys: tuple[str, ...]  # the K declared prior norms, in order
    norms: np.ndarray  # (N, K) initial prior-norm strengths
    conflict: np.ndarray  # (K,) framed conflict in [0, 1] of the proposed norm with each
    combination: str  # how a state's channels n_ik c_k combine: mean, max or power_mean
    exponent: float  # the power mean's exponent p
    version_keys: tuple[str, ...]  # the versions of the proposal, most ambitious first
    version_scale: np.ndarray  # (V,) each version's conflict scale, the first 1
    version_first_step: np.ndarray  # (V,) first step a version can be put to a summit
    initial_version: int  # the most ambitious version adopted before step 0, -1 = none
    regime_conflict: float  # weight of regime insecurity on the framed regime clash
    appeal: float  # 1 - the price of localization (a weaker norm pulls less)
    support: np.ndarray  # (N,) initial support for the proposed norm
    threshold: np.ndarray  # (N,) adoption thresholds
    tipping_weight: np.ndarray  # (N,) weights in the tipping share (all 1 under `count`)
    regime_insecurity: np.ndarray  # (N,)
    prestige_motive: np.ndarray  # (N,)
    ties: np.ndarray  # (N, N) symmetric interaction weights, zero diagonal
    entrepreneurs: tuple[Entrepreneur, ...]
    events: dict[int, tuple[Event, ...]]
    salience: np.ndarray  # (3,) initial salience per Channel
    salience_decay: np.ndarray  # (3,) factor applied each year
    neighbour_influence: float
    cascade_socialization: float
    prestige: float
    resistance: float
    crisis_response: float
    un_response: float
    rivalry_response: float
    identity_drift: float
    noise: float
    threshold_sd: float
    reversal_margin: float
    internalization_years: int
    internalization_relaxation: float
    commitment: float
    tipping_share: float
    internalization_share: float
    summit_interval: int
    max_objectors: int  # the decision rule: a vote survives this many objectors,
    needed_in_favour: int  # needs this many members in favour (adopters),
    veto: np.ndarray  # (N,) and no objection of a veto holder (see _summit)
    acquiescence_margin: float
    table_when_tipped: bool
    retable_interval: int
    withdrawal_margin: float
    mechanisms: frozenset[str] = frozenset(MECHANISMS)  # the switched-on mechanisms

    def on(self, mechanism: str) -> bool:
        """Whether a mechanism (one of :data:`MECHANISMS`) is switched on."""
        return mechanism in self.mechanisms

    @property
    def n_states(self) -> int:
        """Number of member states ``N``."""
        return len(self.codes)

    def year(self, step: int) -> int:
        """Calendar year simulated by ``step``."""
        return self.start_year + step


@dataclass
class State:
    """The mutable state of ``R`` replicates of one scenario at one step."""

    step: int
    support: np.ndarray  # (R, N)
    norms: np.ndarray  # (R, N, K)
    stage: np.ndarray  # (R, N) int8 StateStage codes
    years_adopted: np.ndarray  # (R, N) consecutive years as adopter
    clash_at_adoption: np.ndarray  # (R, N) combined norm clash when the state last adopted
    first_adoption: np.ndarray  # (R, N) step of first adoption, -1 = never
    regional: np.ndarray  # (R,) int8 RegionalStage codes
    threshold: np.ndarray  # (R, N) this replicate's draw of the thresholds
    noise: np.ndarray  # (R, steps, N) standard normal draws, one row per step
    institution: np.ndarray  # (R,) adopted by the decision rule
    adoption_step: np.ndarray  # (R,) step of institutional adoption, -1 = never
    last_tabled: np.ndarray  # (R,) step of the last tabled proposal
    pending: np.ndarray  # (R,) a scheduled proposal waits for the next summit
    tabled: np.ndarray  # (R,) a proposal came to this step's summit (voted or withdrawn)
    blockers: np.ndarray  # (R, N) the members whose objection counted at this step's summit
    summit: np.ndarray  # (R,) int8 Summit code of this step
    version_tabled: np.ndarray  # (R,) int8 the version put forward, -1 = none or withdrawn
    institution_version: np.ndarray  # (R,) int8 most ambitious version adopted, -1 = none
    ties: np.ndarray  # (N, N), shared: events change it alike in every replicate
    regime_insecurity: np.ndarray  # (N,), shared
    salience: np.ndarray  # (3,), shared
    generators: list[np.random.Generator] = field(repr=False, default_factory=list)

    @property
    def replicates(self) -> int:
        """Number of replicates ``R``."""
        return self.support.shape[0]

    @property
    def adopted(self) -> np.ndarray:
        """(R, N) states that hold the norm: adopters and internalized."""
        return self.stage >= StateStage.ADOPTER

    def adopter_share(self) -> np.ndarray:
        """(R,) share of states holding the norm (adopters / N)."""
        return self.adopted.mean(axis=1)


def draw_noise(generators: list[np.random.Generator], steps: int, n: int) -> np.ndarray:
    """Draw the next ``steps`` rows of support noise for each replicate, (R, steps, N)."""
    return np.stack([g.standard_normal((steps, n)) for g in generators])


def initial_state(params: Params, generators: list[np.random.Generator]) -> State:
    """Step 0 of ``len(generators)`` replicates, one generator each.

    Each generator draws, in this order: the replicate's threshold perturbations (N), then
    the support noise of every step (steps x N).
    """
    r, n = len(generators), params.n_states
    draws = np.empty((r, (params.steps + 1) * n))  # one call per replicate, in stream order
    for row, generator in zip(draws, generators, strict=True):
        generator.standard_normal(out=row)
    perturbation, noise = draws[:, :n], draws[:, n:].reshape(r, params.steps, n)
    if params.on("threshold_heterogeneity"):
        threshold = np.clip(params.threshold + params.threshold_sd * perturbation, 0.01, 0.99)
    else:  # every state at the mean threshold, no per-run perturbation (draws still made)
        threshold = np.full((r, n), float(params.threshold.mean()) if n else 0.5)
    support = np.broadcast_to(params.support, (r, n)).copy()
    stage = np.where(support >= threshold, StateStage.ADOPTER, StateStage.RESISTANT)
    stage = stage.astype(np.int8)
    norms = np.broadcast_to(params.norms, (r, n, params.norms.shape[1])).copy()
    state = State(
        step=0,
        support=support,
        norms=norms,
        stage=stage,
        years_adopted=np.zeros((r, n), dtype=np.int32),
        clash_at_adoption=norm_clash(norms, params),
        first_adoption=np.where(stage >= StateStage.ADOPTER, 0, -1).astype(np.int32),
        regional=np.full(r, RegionalStage.EMERGENCE, dtype=np.int8),
        threshold=threshold,
        noise=noise,
        institution=np.full(r, params.initial_version == 0),
        adoption_step=np.full(r, 0 if params.initial_version == 0 else -1, dtype=np.int32),
        last_tabled=np.full(r, -(10**6), dtype=np.int32),
        pending=np.zeros(r, dtype=bool),
        tabled=np.zeros(r, dtype=bool),
        blockers=np.zeros((r, n), dtype=bool),
        summit=np.zeros(r, dtype=np.int8),
        version_tabled=np.full(r, -1, dtype=np.int8),
        institution_version=np.full(r, params.initial_version, dtype=np.int8),
        ties=params.ties.copy(),
        regime_insecurity=params.regime_insecurity.copy(),
        salience=params.salience.copy(),
        generators=generators,
    )
    state.regional = _regional_stage(state, params)
    return state


def _active(params: Params, step: int) -> list[Entrepreneur]:
    return [e for e in params.entrepreneurs if e.first_step <= step <= e.last_step]


def apply_events(state: State, params: Params, step: int) -> None:
    """Apply the events scheduled for ``step`` (MODEL-BRIEF §4.1)."""
    for event in params.events.get(step, ()):
        if event.kind in CHANNEL_OF_EVENT:
            state.salience[CHANNEL_OF_EVENT[event.kind]] += event.value
        elif event.kind == "regime_change":
            state.regime_insecurity[event.state] = event.value
        elif event.kind == "cooperation":
            # Functional cooperation (e.g. the APCN) thickens every tie (000:59).
            off_diagonal = ~np.eye(params.n_states, dtype=bool)
            state.ties[off_diagonal] = np.clip(state.ties[off_diagonal] + event.value, 0.0, 1.0)
        elif event.kind == "proposal":
            state.pending[:] = ~state.institution
        else:  # scenario validation admits no other kind
            raise ValueError(f"unknown event kind {event.kind!r}")


def lobbying_targets(state: State, params: Params, entrepreneur: Entrepreneur) -> np.ndarray:
    """(R, N) the states an entrepreneur lobbies this step, by its strategy."""
    # An entrepreneur does not lobby itself; a fellow entrepreneur is lobbied like any
    # other state (its support is not pinned: a lukewarm co-entrepreneur can be persuaded).
    not_entrepreneur = np.ones(params.n_states, dtype=bool)
    not_entrepreneur[entrepreneur.state] = False
    if entrepreneur.strategy is Strategy.ALL:
        return (state.stage < StateStage.INTERNALIZED) & not_entrepreneur
    eligible = (state.stage == StateStage.RESISTANT) & not_entrepreneur
    match entrepreneur.strategy:
        case Strategy.RECEPTIVE:
            priority = -state.support
        case Strategy.HARDLINERS:
            priority = state.support
        case Strategy.CENTRAL:
            strength = state.ties.sum(axis=1)
            priority = np.broadcast_to(-strength, state.support.shape)
        case Strategy.COALITION:
            own = state.norms[:, entrepreneur.state, None, :]
            priority = np.sqrt(((state.norms - own) ** 2).sum(axis=2))
    priority = np.where(eligible, priority, np.inf)
    order = np.argsort(priority, axis=1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(params.n_states)[None, :], axis=1)
    return eligible & (rank < entrepreneur.targets)


def persuasion(state: State, params: Params) -> np.ndarray:
    """(R, N) persuasion pressure: intensity x own support x tie x credibility x appeal.

    The entrepreneur's yearly effort is shared equally among its targets, so lobbying
    fewer states presses each of them harder. An advocate persuades in proportion to its
    own support (of step t - 1): a lukewarm co-entrepreneur carries little conviction.
    """
    pressure = np.zeros_like(state.support)
    for e in _active(params, state.step + 1):
        targets = lobbying_targets(state, params, e)
        count = targets.sum(axis=1, keepdims=True)
        per_target = np.divide(e.intensity, count, out=np.zeros(count.shape), where=count > 0)
        conviction = state.support[:, e.state, None]
        pressure += targets * per_target * conviction * state.ties[e.state] * e.credibility
    return pressure * params.appeal


def commitment(state: State, params: Params) -> np.ndarray:
    """(R, N) an active entrepreneur's commitment: advocating a norm it holds binds it.

    The pull is ``commitment`` on an active entrepreneur that holds the norm (of step
    t - 1), so a convinced entrepreneur (Indonesia, support 1, 002:284–289; "ideational
    commitment", 002:166–171) stays convinced against the resistance of its own norms,
    while a lukewarm one that does not hold it gains nothing until persuaded: commitment
    follows from the dynamics instead of being pinned.
    """
    pull = np.zeros_like(state.support)
    for e in _active(params, state.step + 1):
        pull[:, e.state] += params.commitment * state.adopted[:, e.state]
    return pull


def neighbour_share(adopted: np.ndarray, ties: np.ndarray) -> np.ndarray:
    """(R, N) tie-weighted share of a state's neighbours that hold the norm (Watts 2002)."""
    strength = ties.sum(axis=1)
    weighted = np.einsum("rj,ij->ri", adopted.astype(float), ties)
    return np.divide(weighted, strength, out=np.zeros_like(weighted), where=strength > 0)


def weighted_adopter_share(adopted: np.ndarray, params: Params) -> np.ndarray:
    """(R,) adopter share weighted by each state's tipping weight ("critical states").

    Under ``region.tipping_rule: count`` every weight is 1: the share is adopters / N.
    """
    w = params.tipping_weight
    return (adopted * w).sum(axis=1) / w.sum()


def combine(channels: np.ndarray, rule: str, exponent: float) -> np.ndarray:
    """Combine the last axis of norm-conflict channels into one clash (0 with no channel).

    ``mean`` is compensatory (a weak clash offsets a strong one); ``max`` lets one deeply
    held norm block alone; ``power_mean`` (M_p = (mean c^p)^(1/p)) lies between: p = 1 is
    the mean, p -> infinity the maximum. All three are homogeneous of degree 1, so a
    version's conflict scale scales the combined clash by the same factor.
    """
    if channels.shape[-1] == 0:
        return np.zeros(channels.shape[:-1])
    match rule:
        case "mean":
            return channels.mean(axis=-1)
        case "max":
            return channels.max(axis=-1)
        case "power_mean":
            return (channels**exponent).mean(axis=-1) ** (1.0 / exponent)
    raise ValueError(f"unknown combination rule {rule!r}")  # validation admits none


def norm_clash(norms: np.ndarray, params: Params) -> np.ndarray:
    """(R, N) the combined clash of each state's prior norms with the framed proposed norm.

    Each prior norm k is its own channel c_ik = n_ik x c_k (strength x framed conflict);
    ``norm.combination`` says how the channels combine (:func:`combine`).
    """
    return combine(norms * params.conflict, params.combination, params.exponent)


def resistance(state: State, params: Params, clash: np.ndarray | None = None) -> np.ndarray:
    """(R, N) resistance: the combined clash of the prior norms, plus regime fear.

    Regime insecurity adds to the clash: in the ASEAN case the more authoritarian members
    "feared creating an instrument that would later be turned against them" (001:1 c.2126).
    Switches: ``norm_resistance`` (the norms' clash), ``regime_fear`` (the regime term).
    ``clash`` is :func:`norm_clash` of ``state.norms`` if the caller has it already.
    """
    if not params.on("norm_resistance"):
        clash = 0.0
    elif clash is None:
        clash = norm_clash(state.norms, params)
    fear = params.regime_conflict * state.regime_insecurity if params.on("regime_fear") else 0.0
    return params.resistance * (clash + fear)


def advance(state: State, params: Params) -> None:
    """Advance every replicate by one year (MODEL-BRIEF §4), in place.

    1. events; 2. lobbying; 3. support moves with persuasion, neighbour influence, cascade
    socialization, prestige and salience, and an entrepreneur's commitment, minus resistance
    from the prior norms, plus noise; 4. stage transitions (``norms.STATE_TRANSITIONS``)
    and identity drift;
    5. the regional stage (``norms.REGIONAL_TRANSITIONS``); 6. a summit votes on a tabled
    proposal by the scenario's decision rule, version by version.
    """
    step = state.step + 1
    if step > state.noise.shape[1]:  # an interactive run beyond the horizon: draw more
        more = draw_noise(state.generators, params.steps, params.n_states)
        state.noise = np.concatenate([state.noise, more], axis=1)
    apply_events(state, params, step)

    adopted = state.adopted
    on = params.on
    tipped = state.regional >= RegionalStage.CASCADE
    un, crisis, rivalry = (
        state.salience[Channel.UN_PARTNERSHIP],
        state.salience[Channel.CRISIS],
        state.salience[Channel.RIVALRY],
    )
    pull = np.zeros_like(state.support)
    if on("persuasion"):
        pull += persuasion(state, params)
    if on("commitment"):
        pull += commitment(state, params)
    if on("neighbour_influence"):
        pull += params.neighbour_influence * neighbour_share(adopted, state.ties)
    if on("cascade_socialization"):
        pull += params.cascade_socialization * (tipped * state.adopter_share())[:, None]
    if on("prestige"):
        pull += params.prestige * params.appeal * params.prestige_motive
    if on("salience"):
        pull += (params.crisis_response * crisis + params.un_response * un
                 + params.rivalry_response * rivalry)
    clash = norm_clash(state.norms, params)  # of the norms of t - 1, read thrice below
    push = resistance(state, params, clash)
    support = state.support + pull * (1.0 - state.support) - push * state.support
    if on("noise"):
        support += params.noise * state.noise[:, step - 1, :]
    np.clip(support, 0.0, 1.0, out=support)

    stage = _next_stage(state, params, support, step, clash)
    newly = (stage >= StateStage.ADOPTER) & (state.first_adoption < 0)
    state.first_adoption[newly] = step
    adopts = (stage >= StateStage.ADOPTER) & (state.stage == StateStage.RESISTANT)
    state.clash_at_adoption = np.where(adopts, clash, state.clash_at_adoption)
    state.years_adopted = np.where(stage >= StateStage.ADOPTER, state.years_adopted + 1, 0)

    # Identity drift: sustained adoption slowly relaxes the conflicting core norms; without
    # it they recover towards the state's original profile (the two-way link).
    if on("identity_drift"):
        holds = (stage >= StateStage.ADOPTER)[:, :, None]
        identity = np.where(holds, params.norms * (1.0 - params.conflict), params.norms)
        state.norms += params.identity_drift * (identity - state.norms)

    state.support, state.stage, state.step = support, stage, step
    state.regional = _regional_stage(state, params)
    _summit(state, params, step)
    state.salience *= params.salience_decay


def _next_stage(state: State, params: Params, support: np.ndarray, step: int,
                clash: np.ndarray) -> np.ndarray:
    """Apply the state transition table to every replicate at once.

    Internalization ("taken for granted", Finnemore & Sikkink 1998) needs four things at
    once: adoption for ``internalization_years`` consecutive years; support at or above the
    threshold (the norm is still held, never below it); identity drift has relaxed the
    conflicting prior norms (combined clash <= (1 - ``internalization_relaxation``) x the
    clash when the state adopted); and the region is past the tipping point (a norm is
    taken for granted once it is the region's standard, not while a few leaders hold it).
    """
    stage = state.stage.copy()
    resistant = state.stage == StateStage.RESISTANT
    adopter = state.stage == StateStage.ADOPTER
    # Norms "do not appear out of thin air" (Finnemore & Sikkink 1998): a state can adopt
    # only a norm on the agenda, one that an entrepreneur advocates or some state holds.
    on_agenda = bool(_active(params, step)) | state.adopted.any(axis=1, keepdims=True)
    stage[resistant & on_agenda & (support >= state.threshold)] = StateStage.ADOPTER
    reverts = adopter & (support < state.threshold - params.reversal_margin)
    if not params.on("reversal"):
        reverts[:] = False
    stage[reverts] = StateStage.RESISTANT
    if params.on("internalization"):
        relaxed = clash <= (
            (1.0 - params.internalization_relaxation) * state.clash_at_adoption + 1e-12)
        tipped = (state.regional >= RegionalStage.CASCADE)[:, None]
        matures = (adopter & ~reverts & (support >= state.threshold) & relaxed & tipped
                   & (state.years_adopted + 1 >= params.internalization_years))
        stage[matures] = StateStage.INTERNALIZED
    return stage


def _regional_stage(state: State, params: Params) -> np.ndarray:
    """Apply the regional transition table (the one-third tipping point, 002:281–283)."""
    share = weighted_adopter_share(state.adopted, params)
    internalized = (state.stage == StateStage.INTERNALIZED).mean(axis=1)
    regional = state.regional.copy()
    emergence = state.regional == RegionalStage.EMERGENCE
    cascade = state.regional == RegionalStage.CASCADE
    tips = share >= params.tipping_share
    regional[emergence & tips] = RegionalStage.CASCADE
    regional[cascade & ~tips] = RegionalStage.EMERGENCE
    if params.on("internalization"):
        regional[cascade & tips & (internalized >= params.internalization_share)] = (
            RegionalStage.INTERNALIZATION
        )
    return regional


def version_support(support: np.ndarray, scale: float) -> np.ndarray:
    """(R, N) a state's support for a version of conflict scale λ, from its support s.

    The support update has the fixed point s* = pull / (pull + push); a version whose
    clash (and regime fear) is λ times the norm's meets λ times the push, so its fixed
    point has odds s / (λ (1 − s)): s_v = s / (s + λ (1 − s)). λ = 1 is the norm itself;
    a lesser version is supported more, most by those whose support is near the middle.
    """
    if scale >= 1.0:
        return support
    return support / (support + scale * (1.0 - support))


def _verdicts(state: State, params: Params, margin: float) -> tuple[np.ndarray, ...]:
    """Per version: (V, R, N) objectors and (V, R) whether the rule accepts it.

    A member is in favour of version v when it holds the norm or its support for v
    (:func:`version_support`) reaches its threshold; it objects when it does not hold the
    norm and its support for v is below its threshold by more than ``margin``.
    """
    held = state.adopted
    objects, passes = [], []
    for scale in params.version_scale:
        sv = version_support(state.support, float(scale))
        favour = held | (sv >= state.threshold)
        obj = ~held & (sv < state.threshold - margin)
        vetoed = (obj & params.veto).any(axis=1)
        objects.append(obj)
        passes.append(~vetoed & (obj.sum(axis=1) <= params.max_objectors)
                      & (favour.sum(axis=1) >= params.needed_in_favour))
    return np.stack(objects), np.stack(passes)


def _counted(objects: np.ndarray, params: Params) -> np.ndarray:
    """(R, N) the objections that count: the veto holders' if any vetoed, else all."""
    vetoes = objects & params.veto
    return np.where(vetoes.any(axis=1)[:, None], vetoes, objects)


def _summit(state: State, params: Params, step: int) -> None:
    """A summit decides on a tabled proposal by the scenario's decision rule.

    **Versions** (``norm.versions``, most ambitious first): the summit adopts the most
    ambitious version the rule accepts, among those more ambitious than the one already
    adopted: "the least-restrictive version prevails" (002:480–484). With ``versions``
    switched off only the most ambitious version is put forward.

    Under every rule a member is *in favour* of a version when it holds the norm or its
    support for the version reaches its threshold, and *objects* when it does not hold the
    norm and its support for the version is below its threshold by more than the
    acquiescence margin; closer to it, it abstains rather than cause a loss of face (in the
    ASEAN case, 002:515–516). One formula serves the rules
    (:func:`~normsim.models.region.params.decision_arrays`): a version passes when at most
    ``max_objectors`` object, at least ``needed_in_favour`` are in favour, and no veto
    holder objects. Consensus (ASEAN: one objector blocks, Charter Art. 20; 002:480–484) is
    0 objectors; ``max_objectors`` k; a qualified majority has no objector limit, a count
    in favour and its veto holders.

    **Withdrawal** (the proposer's foresight): in consultation before the summit the
    proposer counts the *clear* objectors of each version, those below their threshold by
    more than the acquiescence margin plus ``withdrawal_margin``, and foresees a version
    blocked when the rule would fail on them alone (under consensus: some member is a clear
    objector). It tables the most ambitious version it does not foresee blocked, taking the
    more ambitious ones off the table; when it foresees every remaining version blocked it
    withdraws the proposal (outcome ``withdrawn``, nothing tabled). Indonesia's 2011
    proposal of an integrated capacity was "taken off the table before a discussion could
    get started" (001:1 c.1776–2060). The summit then adopts the most ambitious version at
    or below the tabled one that the rule accepts. ``version_tabled`` records the version
    put forward (-1 when withdrawn). With ``withdrawal`` off the proposer tables the most
    ambitious version and the summit decides.

    The blockers recorded are the members whose objection kept the most ambitious version
    (the norm itself) from adoption, counted as the rule counts them: the objecting veto
    holders if any vetoed, else every objector. When the proposer took it off the table (or
    withdrew the proposal) these are its clear objectors; when it was voted on and did not
    pass, its objectors at the vote (none if a qualified majority fell short on
    abstentions alone).
    """
    r = state.replicates
    state.tabled = np.zeros(r, dtype=bool)
    state.blockers = np.zeros_like(state.support, dtype=bool)
    state.summit = np.zeros(r, dtype=np.int8)
    state.version_tabled = np.full(r, -1, dtype=np.int8)
    if step % params.summit_interval:
        return
    auto = np.zeros(r, dtype=bool)
    if params.table_when_tipped and _active(params, step):
        auto = (state.regional >= RegionalStage.CASCADE) & (
            step - state.last_tabled >= params.retable_interval
        )
    tabled = (state.pending | auto) & ~state.institution
    state.pending[:] = False
    if not tabled.any():
        return
    n_versions = len(params.version_scale) if params.on("versions") else 1
    adopted_so_far = np.where(state.institution_version < 0, len(params.version_scale),
                              state.institution_version)
    available = params.version_first_step[:n_versions, None] <= step
    candidate = (np.arange(n_versions)[:, None] < adopted_so_far[None, :]) & available  # (V, R)
    objects, passes = _verdicts(state, params, params.acquiescence_margin)
    objects, passes = objects[:n_versions], passes[:n_versions] & candidate
    top = 0  # the norm itself: tabled only while it is not adopted, so always a candidate
    if params.on("withdrawal"):
        clear, foreseen = _verdicts(state, params,
                                    params.acquiescence_margin + params.withdrawal_margin)
        clear, foreseen = clear[:n_versions], foreseen[:n_versions] & candidate
        withdrawn = tabled & ~foreseen.any(axis=0)
        put_forward = np.where(withdrawn, -1, foreseen.argmax(axis=0))  # most ambitious
        off_table = tabled & (put_forward != top)  # the norm taken off the table
        state.blockers |= _counted(clear[top], params) & off_table[:, None]
    else:
        withdrawn = np.zeros(r, dtype=bool)
        put_forward = np.where(candidate.any(axis=0), candidate.argmax(axis=0), -1)
    voted = tabled & ~withdrawn
    # The summit considers the tabled version and the lesser ones below it.
    passes &= np.arange(n_versions)[:, None] >= put_forward[None, :]
    any_pass = passes.any(axis=0)
    chosen = np.where(any_pass, passes.argmax(axis=0), -1)  # most ambitious accepted
    adopted = voted & any_pass
    voted_on_norm = voted & (put_forward == top)
    state.blockers |= _counted(objects[top], params) & (voted_on_norm & (chosen != top))[:, None]
    state.summit[adopted] = Summit.ADOPTED
    state.summit[voted & ~any_pass] = Summit.FAILED
    state.summit[withdrawn] = Summit.WITHDRAWN
    state.version_tabled[voted] = put_forward[voted]
    state.institution_version[adopted] = chosen[adopted]
    state.tabled = tabled
    state.last_tabled[tabled] = step
    passed = adopted & (chosen == top)
    state.institution |= passed
    state.adoption_step[passed] = step


@dataclass
class Trajectory:
    """What ``R`` replicates went through, step by step: the raw material of the result tables.

    Both engines fill one, through :meth:`record`, so their tables are built by the same code.
    """

    codes: tuple[str, ...]
    start_year: int
    support: list[np.ndarray] = field(default_factory=list)  # per step (R, N)
    stage: list[np.ndarray] = field(default_factory=list)  # per step (R, N)
    norms: list[np.ndarray] = field(default_factory=list)  # per step (R, N, K)
    regional: list[np.ndarray] = field(default_factory=list)  # per step (R,)
    tabled: list[np.ndarray] = field(default_factory=list)  # per step (R,)
    blockers: list[np.ndarray] = field(default_factory=list)  # per step (R, N)
    institution: list[np.ndarray] = field(default_factory=list)  # per step (R,)
    summit: list[np.ndarray] = field(default_factory=list)  # per step (R,) Summit codes
    version_tabled: list[np.ndarray] = field(default_factory=list)  # per step (R,)
    institution_version: list[np.ndarray] = field(default_factory=list)  # per step (R,)
    threshold: list[np.ndarray] = field(default_factory=list)  # per step (R, N)

    def record(self, state: State) -> None:
        """Append a copy of the state's observable part."""
        self.support.append(state.support.copy())
        self.stage.append(state.stage.copy())
        self.norms.append(state.norms.copy())
        self.regional.append(state.regional.copy())
        self.tabled.append(state.tabled.copy())
        self.blockers.append(state.blockers.copy())
        self.institution.append(state.institution.copy())
        self.summit.append(state.summit.copy())
        self.version_tabled.append(state.version_tabled.copy())
        self.institution_version.append(state.institution_version.copy())
        self.threshold.append(state.threshold.copy())

    def arrays(self) -> dict[str, np.ndarray]:
        """Every series stacked with the replicate axis first: (R, T + 1, ...)."""
        names = ("support", "stage", "norms", "regional", "tabled", "blockers", "institution",
                 "summit", "version_tabled", "institution_version", "threshold")
        return {name: np.stack(getattr(self, name), axis=1) for name in names}


def simulate(params: Params, generators: list[np.random.Generator]) -> Trajectory:
    """Run ``len(generators)`` replicates for ``params.steps`` years, recording each step."""
    state = initial_state(params, generators)
    trajectory = Trajectory(params.codes, params.start_year)
    trajectory.record(state)
    for _ in range(params.steps):
        advance(state, params)
        trajectory.record(state)
    return trajectory
