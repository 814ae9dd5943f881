"""The update rule of the regional norm model, written once, on arrays.

Arrays are state-major: the state axis ``N`` (the members in the scenario's order) comes
first, then the replicate axis ``R``; prior-norm strengths put the ``K`` prior norms the
scenario declares (in their declared order) in front, ``(K, N, R)``. A sum over the member
states or the prior norms then adds a few long rows. The batch engine advances thousands of
replicates at once; the Mesa model advances one (``R = 1``) and shows the result on its
agents. Both call :func:`initial_state` and :func:`advance`, and both read their random
numbers from :class:`normsim.seeds.StepNormals`, each replicate from its own seed: step 0's
standard normals are its threshold perturbations, step ``t``'s its support noise of year
``t``. So the same seed gives the same run whatever the engine or the batch size, and a
longer horizon keeps the early years. (:meth:`Trajectory.arrays` hands the result tables
the replicate axis first.)

Identity drift moves every prior-norm strength of a state the same share of the way to its
target, so a state's strengths are n_ik = n0_ik (1 - c_k g_i) with one *relaxation* g_i per
state and replicate (:attr:`State.relaxation`, :attr:`State.norms`): the same rule, held in
one number instead of K. A state whose norms never drifted keeps its original clash.

Updating is synchronous: every state reads the support, stages, norms and ties of step
``t - 1`` and all changes of step ``t`` apply together. Every sum runs in an order that does
not depend on how many replicates share the batch: a sum over the states, the neighbours or
the prior norms adds its terms one after another (:func:`_sum_rows`; numpy would sum a
contiguous axis pairwise, and no BLAS kernel is involved), and a large batch looks its
adopter sets up in a table computed by the same sums;
``test_same_seed_same_run_whatever_the_chunk_order_block_or_engine`` holds that, bit for
bit. Powers with a whole exponent are repeated multiplications, and roots of a power-of-two
degree repeated square roots: exact IEEE operations, the same on every machine.

One step is one year. Step ``t`` simulates year ``start_year + t``; step 0 is the
calibrated initial condition.

Every mechanism has an off switch (:data:`MECHANISMS`, the scenario's ``mechanisms:``
section): a switched-off mechanism contributes nothing, so an ablation is a scenario
override, not another code path.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np

from normsim.models.region.norms import RegionalStage, StateStage, Strategy
from normsim.seeds import StepNormals

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


# The stage and outcome codes as plain ints: numpy compares an array with a Python int
# directly, and with an IntEnum member only after converting the array.
RESISTANT, ADOPTER, INTERNALIZED = (int(s) for s in StateStage)
EMERGENCE, CASCADE, INTERNALIZATION = (int(s) for s in RegionalStage)
ADOPTED, FAILED, WITHDRAWN = (int(s) for s in (Summit.ADOPTED, Summit.FAILED, Summit.WITHDRAWN))


@dataclass
class State:
    """The mutable state of ``R`` replicates of one scenario at one step, state-major."""

    step: int
    support: np.ndarray  # (N, R)
    relaxation: np.ndarray  # (N, R) g in [0, 1]: how far identity drift relaxed the norms
    stage: np.ndarray  # (N, R) int8 StateStage codes
    years_adopted: np.ndarray  # (N, R) consecutive years as adopter
    clash_at_adoption: np.ndarray  # (N, R) combined norm clash when the state last adopted
    first_adoption: np.ndarray  # (N, R) step of first adoption, -1 = never
    regional: np.ndarray  # (R,) int8 RegionalStage codes
    threshold: np.ndarray  # (N, R) this replicate's draw of the thresholds
    normals: StepNormals  # the replicates' standard normals, step by step
    institution: np.ndarray  # (R,) adopted by the decision rule
    adoption_step: np.ndarray  # (R,) step of institutional adoption, -1 = never
    last_tabled: np.ndarray  # (R,) step of the last tabled proposal
    pending: np.ndarray  # (R,) a scheduled proposal waits for the next summit
    tabled: np.ndarray  # (R,) a proposal came to this step's summit (voted or withdrawn)
    blockers: np.ndarray  # (N, R) the members whose objection counted at this step's summit
    summit: np.ndarray  # (R,) int8 Summit code of this step
    version_tabled: np.ndarray  # (R,) int8 the version put forward, -1 = none or withdrawn
    institution_version: np.ndarray  # (R,) int8 most ambitious version adopted, -1 = none
    ties: np.ndarray  # (N, N), shared: events change it alike in every replicate
    regime_insecurity: np.ndarray  # (N,), shared
    salience: np.ndarray  # (3,), shared
    profile: np.ndarray  # (K, N, 1) the original prior-norm strengths n0, shared
    conflict: np.ndarray  # (K, 1, 1) the framed conflict c of each prior norm, shared
    clash0: np.ndarray  # (N, 1) the combined clash of the original profile
    neighbour_table: np.ndarray | None = None  # (N, 2^N) pull of each adopter set, or None

    @property
    def norms(self) -> np.ndarray:
        """(K, N, R) the prior-norm strengths: n_ik = n0_ik (1 - c_k g_i) (see :func:`advance`)."""
        return self.profile * (1.0 - self.conflict * self.relaxation)

    @property
    def replicates(self) -> int:
        """Number of replicates ``R``."""
        return self.support.shape[1]

    @property
    def adopted(self) -> np.ndarray:
        """(N, R) states that hold the norm: adopters and internalized."""
        return self.stage >= ADOPTER

    def adopter_share(self) -> np.ndarray:
        """(R,) share of states holding the norm (adopters / N)."""
        return _count(self.adopted) / self.stage.shape[0]


def _count(mask: np.ndarray) -> np.ndarray:
    """(R,) how many member states a (N, R) mask holds (fewer than 2**15 members)."""
    return mask.sum(axis=0, dtype=np.int16)


def _sum_rows(x: np.ndarray) -> np.ndarray:
    """The sum over the first axis, row after row: ((x_0 + x_1) + x_2) + ...

    Written out, because numpy sums a contiguous axis pairwise: with one replicate (or
    one cell) the first axis would be summed in another order than in a batch.
    """
    total = x[0].copy()
    for row in x[1:]:
        total += row
    return total


def initial_state(params: Params, seeds: Sequence[int]) -> State:
    """Step 0 of ``len(seeds)`` replicates, one seed each.

    A replicate's step-0 standard normals (:class:`~normsim.seeds.StepNormals`) perturb its
    thresholds; :func:`advance` reads step ``t``'s as the support noise of year ``t``.
    """
    normals = StepNormals(seeds, params.n_states)
    r, n = normals.runs, params.n_states
    if params.on("threshold_heterogeneity"):
        perturbation = np.ascontiguousarray(normals(0).T)  # (N, R)
        threshold = np.clip(params.threshold[:, None] + params.threshold_sd * perturbation,
                            0.01, 0.99)
    else:  # every state at the mean threshold, no per-run perturbation
        threshold = np.full((n, r), float(params.threshold.mean()) if n else 0.5)
    support = np.broadcast_to(params.support[:, None], (n, r)).copy()
    stage = np.where(support >= threshold, ADOPTER, RESISTANT)
    stage = stage.astype(np.int8)
    profile = params.norms.T[:, :, None].copy()
    clash0 = norm_clash(profile, params)
    state = State(
        step=0,
        support=support,
        relaxation=np.zeros((n, r)),
        stage=stage,
        years_adopted=np.zeros((n, r), dtype=np.int32),
        clash_at_adoption=np.repeat(clash0, r, axis=1),
        first_adoption=np.where(stage >= ADOPTER, 0, -1).astype(np.int32),
        regional=np.full(r, EMERGENCE, dtype=np.int8),
        threshold=threshold,
        normals=normals,
        institution=np.full(r, params.initial_version == 0),
        adoption_step=np.full(r, 0 if params.initial_version == 0 else -1, dtype=np.int32),
        last_tabled=np.full(r, -(10**6), dtype=np.int32),
        pending=np.zeros(r, dtype=bool),
        tabled=np.zeros(r, dtype=bool),
        blockers=np.zeros((n, r), dtype=bool),
        summit=np.zeros(r, dtype=np.int8),
        version_tabled=np.full(r, -1, dtype=np.int8),
        institution_version=np.full(r, params.initial_version, dtype=np.int8),
        ties=params.ties.copy(),
        regime_insecurity=params.regime_insecurity.copy(),
        salience=params.salience.copy(),
        profile=profile,
        conflict=params.conflict[:, None, None].copy(),
        clash0=clash0,
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
            state.neighbour_table = None  # of the former ties
        elif event.kind == "proposal":
            state.pending[:] = ~state.institution
        else:  # scenario validation admits no other kind
            raise ValueError(f"unknown event kind {event.kind!r}")


def lobbying_targets(state: State, params: Params, entrepreneur: Entrepreneur) -> np.ndarray:
    """(N, R) the states an entrepreneur lobbies this step, by its strategy."""
    # An entrepreneur does not lobby itself; a fellow entrepreneur is lobbied like any
    # other state (its support is not pinned: a lukewarm co-entrepreneur can be persuaded).
    not_entrepreneur = np.ones((params.n_states, 1), dtype=bool)
    not_entrepreneur[entrepreneur.state] = False
    if entrepreneur.strategy is Strategy.ALL:
        return (state.stage < INTERNALIZED) & not_entrepreneur
    eligible = (state.stage == RESISTANT) & not_entrepreneur
    match entrepreneur.strategy:
        case Strategy.RECEPTIVE:
            priority = -state.support
        case Strategy.HARDLINERS:
            priority = state.support
        case Strategy.CENTRAL:
            strength = state.ties.sum(axis=1)
            priority = np.broadcast_to(-strength[:, None], state.support.shape)
        case Strategy.COALITION:
            norms = state.norms
            own = norms[:, entrepreneur.state, None, :]
            priority = np.sqrt(_sum_rows((norms - own) ** 2))
    priority = np.where(eligible, priority, np.inf)
    order = np.argsort(priority, axis=0, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(params.n_states)[:, None], axis=0)
    return eligible & (rank < entrepreneur.targets)


def persuasion(state: State, params: Params) -> np.ndarray:
    """(N, R) persuasion pressure: intensity x own support x tie x credibility x appeal.

    The entrepreneur's yearly effort is shared equally among its targets, so lobbying
    fewer states presses each of them harder. An advocate persuades in proportion to its
    own support (of step t - 1): a lukewarm co-entrepreneur carries little conviction.
    """
    pressure = None
    for e in _active(params, state.step + 1):
        targets = lobbying_targets(state, params, e)
        count = _count(targets)
        per_target = np.divide(e.intensity, count, out=np.zeros(count.shape), where=count > 0)
        conviction = state.support[e.state]
        # per target x conviction x tie x credibility, in that order, then x the 0/1 target
        term = np.multiply.outer(state.ties[e.state], per_target * conviction)
        term *= e.credibility
        term *= targets
        pressure = term if pressure is None else pressure + term
    if pressure is None:
        return np.zeros_like(state.support)
    pressure *= params.appeal
    return pressure


def commitment(state: State, params: Params, pull: np.ndarray) -> None:
    """Add to ``pull`` an active entrepreneur's commitment: advocating a norm it holds binds it.

    The pull is ``commitment`` on an active entrepreneur that holds the norm (of step
    t - 1), so a convinced entrepreneur (Indonesia, support 1, 002:284–289; "ideational
    commitment", 002:166–171) stays convinced against the resistance of its own norms,
    while a lukewarm one that does not hold it gains nothing until persuaded: commitment
    follows from the dynamics instead of being pinned.
    """
    for e in _active(params, state.step + 1):
        pull[e.state] += params.commitment * (state.stage[e.state] >= ADOPTER)


def neighbour_share(adopted: np.ndarray, ties: np.ndarray) -> np.ndarray:
    """(N, R) tie-weighted share of a state's neighbours that hold the norm (Watts 2002).

    The tie-weighted count sums over the neighbours j in order, the same in any batch.
    """
    strength = ties.sum(axis=1)[:, None]
    weighted = _sum_rows(ties.T[:, :, None] * adopted[:, None, :])  # (j, i, R) -> (i, R)
    if (strength > 0).all():
        return np.divide(weighted, strength, out=weighted)
    return np.divide(weighted, strength, out=np.zeros_like(weighted), where=strength > 0)


def _neighbour_pull(state: State, params: Params, adopted: np.ndarray) -> np.ndarray:
    """(N, R) the pull of adopting neighbours: ``neighbour_influence`` x :func:`neighbour_share`.

    The share depends on the set of states that hold the norm only, so when the 2^N sets
    are no more than the replicates, the pull of every set is tabulated (once per change
    of the ties, by the same arithmetic) and each replicate looks its set up.
    """
    n, r = adopted.shape
    if 2**n > r:
        pull = neighbour_share(adopted, state.ties)
        pull *= params.neighbour_influence
        return pull
    if state.neighbour_table is None:
        sets = (np.arange(2**n)[None, :] >> np.arange(n)[:, None]) & 1  # (N, 2^N): bit j
        state.neighbour_table = neighbour_share(sets.astype(bool), state.ties)
        state.neighbour_table *= params.neighbour_influence
    index = np.einsum("i,ir->r", 1 << np.arange(n, dtype=np.int32), adopted.view(np.int8))
    return np.take(state.neighbour_table, index, axis=1)


def weighted_adopter_share(adopted: np.ndarray, params: Params) -> np.ndarray:
    """(R,) adopter share weighted by each state's tipping weight ("critical states").

    Under ``region.tipping_rule: count`` every weight is 1: the share is adopters / N.
    """
    w = params.tipping_weight
    if (w == 1.0).all():
        return _count(adopted) / len(w)
    return _sum_rows(adopted * w[:, None]) / w.sum()


def _power(x: np.ndarray, p: float) -> np.ndarray:
    """x^p, overwriting x: by multiplication (squaring) when p is a whole number up to 64."""
    if not (p == int(p) and 1 <= p <= 64):
        return np.power(x, p, out=x)
    n, result = int(p), None
    while True:
        if n & 1:
            if result is None:
                result = x if n == 1 else x.copy()
            else:
                np.multiply(result, x, out=result)
        n >>= 1
        if not n:
            return result
        np.multiply(x, x, out=x)


def _root(x: np.ndarray, p: float) -> np.ndarray:
    """x^(1/p): by repeated square roots when p is 1, 2, 4, ... 64."""
    if p not in (1, 2, 4, 8, 16, 32, 64):
        return x ** (1.0 / p)
    while p > 1:
        x, p = np.sqrt(x), p / 2
    return x


def combine(channels: np.ndarray, rule: str, exponent: float) -> np.ndarray:
    """Combine the first axis of norm-conflict channels into one clash (0 with no channel).

    The power mean overwrites ``channels`` (with its powers).

    ``mean`` is compensatory (a weak clash offsets a strong one); ``max`` lets one deeply
    held norm block alone; ``power_mean`` (M_p = (mean c^p)^(1/p)) lies between: p = 1 is
    the mean, p -> infinity the maximum. All three are homogeneous of degree 1, so a
    version's conflict scale scales the combined clash by the same factor.
    """
    if channels.shape[0] == 0:
        return np.zeros(channels.shape[1:])
    match rule:
        case "mean":
            return _sum_rows(channels) / channels.shape[0]
        case "max":
            return channels.max(axis=0)
        case "power_mean":
            return _root(_sum_rows(_power(channels, exponent)) / channels.shape[0], exponent)
    raise ValueError(f"unknown combination rule {rule!r}")  # validation admits none


def norm_clash(norms: np.ndarray, params: Params) -> np.ndarray:
    """(N, ...) the combined clash of each state's prior norms with the framed proposed norm.

    Each prior norm k is its own channel c_ik = n_ik x c_k (strength x framed conflict);
    ``norm.combination`` says how the channels combine (:func:`combine`). ``norms`` has
    the prior norms first: (K, N, R), or (K, M) for M cells.
    """
    conflict = params.conflict.reshape((-1,) + (1,) * (norms.ndim - 1))
    return combine(norms * conflict, params.combination, params.exponent)


def _clash(state: State, params: Params) -> np.ndarray:
    """(N, R) :func:`norm_clash` of ``state.norms``, computed where the norms have drifted.

    A state whose norms never drifted (g = 0) keeps its original profile, and its clash.
    """
    r = state.replicates
    clash = np.repeat(state.clash0, r, axis=1)
    cells = np.flatnonzero(state.relaxation > 0.0)
    if len(cells):
        relaxation = np.take(state.relaxation, cells)
        norms = np.multiply(state.conflict[:, :, 0], relaxation)  # (K, M), as State.norms
        np.subtract(1.0, norms, out=norms)
        norms *= np.take(state.profile[:, :, 0], cells // r, axis=1)
        np.put(clash, cells, norm_clash(norms, params))
    return clash


def resistance(state: State, params: Params, clash: np.ndarray | None = None) -> np.ndarray:
    """(N, R) resistance: the combined clash of the prior norms, plus regime fear.

    Regime insecurity adds to the clash: in the ASEAN case the more authoritarian members
    "feared creating an instrument that would later be turned against them" (001:1 c.2126).
    Switches: ``norm_resistance`` (the norms' clash), ``regime_fear`` (the regime term).
    ``clash`` is :func:`norm_clash` of ``state.norms`` if the caller has it already.
    """
    if not params.on("norm_resistance"):
        clash = 0.0
    elif clash is None:
        clash = _clash(state, params)
    fear = (params.regime_conflict * state.regime_insecurity[:, None]
            if params.on("regime_fear") else 0.0)
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
    apply_events(state, params, step)

    adopted = state.adopted
    on = params.on
    tipped = state.regional >= CASCADE
    un, crisis, rivalry = (
        state.salience[Channel.UN_PARTNERSHIP],
        state.salience[Channel.CRISIS],
        state.salience[Channel.RIVALRY],
    )
    pull = persuasion(state, params) if on("persuasion") else np.zeros_like(state.support)
    if on("commitment"):
        commitment(state, params, pull)
    if on("neighbour_influence"):
        pull += _neighbour_pull(state, params, adopted)
    if on("cascade_socialization"):
        pull += params.cascade_socialization * (tipped * state.adopter_share())
    if on("prestige"):
        pull += (params.prestige * params.appeal * params.prestige_motive)[:, None]
    if on("salience"):
        pull += (params.crisis_response * crisis + params.un_response * un
                 + params.rivalry_response * rivalry)
    clash = _clash(state, params)  # of the norms of t - 1, read thrice below
    push = resistance(state, params, clash)
    # support + pull (1 - support) - push support, in place
    support = 1.0 - state.support
    support *= pull
    support += state.support
    support -= push * state.support
    if on("noise"):
        support += np.multiply(state.normals(step).T, params.noise,
                               out=np.empty_like(support))
    np.clip(support, 0.0, 1.0, out=support)

    stage, adopts = _next_stage(state, params, support, step, clash, adopted)
    holds = stage >= ADOPTER
    np.copyto(state.first_adoption, step, where=holds & (state.first_adoption < 0))
    np.copyto(state.clash_at_adoption, clash, where=adopts)
    state.years_adopted += 1
    state.years_adopted *= holds

    # Identity drift: sustained adoption slowly relaxes the conflicting core norms; without
    # it they recover towards the state's original profile (the two-way link). Every
    # strength moves a share δ of the way to its target, n' = n + δ (target - n), the target
    # being the relaxed profile n0 (1 - c) while the state holds the norm and the original
    # n0 when it does not. All of a state's strengths are then n0 (1 - c g), with one
    # relaxation g per state that moves the same way: g' = g + δ (holds - g).
    if on("identity_drift"):
        state.relaxation += params.identity_drift * (holds - state.relaxation)

    state.support, state.stage, state.step = support, stage, step
    state.regional = _regional_stage(state, params, holds)
    _summit(state, params, step)
    state.salience *= params.salience_decay


def _next_stage(state: State, params: Params, support: np.ndarray, step: int,
                clash: np.ndarray, held: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Apply the state transition table to every replicate at once.

    Internalization ("taken for granted", Finnemore & Sikkink 1998) needs four things at
    once: adoption for ``internalization_years`` consecutive years; support at or above the
    threshold (the norm is still held, never below it); identity drift has relaxed the
    conflicting prior norms (combined clash <= (1 - ``internalization_relaxation``) x the
    clash when the state adopted); and the region is past the tipping point (a norm is
    taken for granted once it is the region's standard, not while a few leaders hold it).

    ``held`` is ``state.adopted`` (of step t - 1).

    Returns:
        The new stages, and the states that adopt (resistant before, adopters now).
    """
    resistant = state.stage == RESISTANT
    adopter = state.stage == ADOPTER
    reached = support >= state.threshold
    adopts = resistant & reached
    # Norms "do not appear out of thin air" (Finnemore & Sikkink 1998): a state can adopt
    # only a norm on the agenda, one that an entrepreneur advocates or some state holds.
    if not _active(params, step):
        adopts &= held.any(axis=0)
    stage = state.stage + adopts  # the stages are codes 0, 1, 2: one step up or down
    reverts = None
    if params.on("reversal"):
        reverts = adopter & (support < state.threshold - params.reversal_margin)
        stage -= reverts
    tipped = state.regional >= CASCADE
    if params.on("internalization") and tipped.any():
        relaxed = clash <= (
            (1.0 - params.internalization_relaxation) * state.clash_at_adoption + 1e-12)
        matures = (adopter & reached & relaxed & tipped
                   & (state.years_adopted + 1 >= params.internalization_years))
        if reverts is not None:
            matures &= ~reverts
        stage += matures
    return stage, adopts


def _regional_stage(state: State, params: Params, held: np.ndarray | None = None) -> np.ndarray:
    """Apply the regional transition table (the one-third tipping point, 002:281–283).

    ``held`` is ``state.adopted``, if the caller has it.
    """
    share = weighted_adopter_share(state.adopted if held is None else held, params)
    internalized = _count(state.stage == INTERNALIZED) / state.stage.shape[0]
    regional = state.regional.copy()
    emergence = state.regional == EMERGENCE
    cascade = state.regional == CASCADE
    tips = share >= params.tipping_share
    regional[emergence & tips] = CASCADE
    regional[cascade & ~tips] = EMERGENCE
    if params.on("internalization"):
        regional[cascade & tips & (internalized >= params.internalization_share)] = (
            INTERNALIZATION
        )
    return regional


def version_support(support: np.ndarray, scale: float | np.ndarray) -> np.ndarray:
    """(N, M) a state's support for a version of conflict scale λ, from its support s.

    The support update has the fixed point s* = pull / (pull + push); a version whose
    clash (and regime fear) is λ times the norm's meets λ times the push, so its fixed
    point has odds s / (λ (1 − s)): s_v = s / (s + λ (1 − s)). λ = 1 is the norm itself;
    a lesser version is supported more, most by those whose support is near the middle.
    ``scale`` may be an array of scales below 1, (L, 1, 1): then (L, N, M).
    """
    if np.ndim(scale) == 0 and scale >= 1.0:
        return support
    return support / (support + scale * (1.0 - support))


def _verdicts(held: np.ndarray, support: np.ndarray, threshold: np.ndarray, params: Params,
              margins: tuple[float, ...], versions: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per margin: (V, N, M) objectors and (V, M) whether the rule accepts each version.

    A member is in favour of version v when it holds the norm or its support for v
    (:func:`version_support`) reaches its threshold; it objects when it does not hold the
    norm and its support for v is below its threshold by more than the margin. The first
    ``versions`` versions are judged, in ``M`` replicates (the columns of the arrays).
    """
    scales = params.version_scale[:versions]
    sv = np.repeat(support[None], versions, axis=0)  # (V, N, M): s for a scale of 1
    lesser = np.flatnonzero(scales < 1.0)
    if len(lesser):
        sv[lesser] = version_support(support, scales[lesser, None, None])
    favour = (held | (sv >= threshold)).sum(axis=1, dtype=np.int16) >= params.needed_in_favour
    out = []
    for margin in margins:
        objects = ~held & (sv < threshold - margin)
        passes = favour & (objects.sum(axis=1, dtype=np.int16) <= params.max_objectors)
        if params.veto.any():
            passes &= ~(objects & params.veto[:, None]).any(axis=1)
        out.append((objects, passes))
    return out


def _counted(objects: np.ndarray, params: Params) -> np.ndarray:
    """(N, M) the objections that count: the veto holders' if any vetoed, else all."""
    vetoes = objects & params.veto[:, None]
    return np.where(vetoes.any(axis=0), vetoes, objects)


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

    Only the replicates with a tabled proposal are judged (the columns ``at``).
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
        auto = (state.regional >= CASCADE) & (
            step - state.last_tabled >= params.retable_interval
        )
    tabled = (state.pending | auto) & ~state.institution
    state.pending[:] = False
    if not tabled.any():
        return
    at = np.flatnonzero(tabled)
    held, support = state.adopted[:, at], state.support[:, at]
    n_versions = len(params.version_scale) if params.on("versions") else 1
    version = state.institution_version[at]
    adopted_so_far = np.where(version < 0, len(params.version_scale), version)
    available = params.version_first_step[:n_versions, None] <= step
    candidate = (np.arange(n_versions)[:, None] < adopted_so_far[None, :]) & available  # (V, M)
    withdrawal = params.on("withdrawal")
    margins = (params.acquiescence_margin,) + (
        (params.acquiescence_margin + params.withdrawal_margin,) if withdrawal else ())
    verdicts = _verdicts(held, support, state.threshold[:, at], params, margins, n_versions)
    objects, passes = verdicts[0]
    passes &= candidate
    top = 0  # the norm itself: tabled only while it is not adopted, so always a candidate
    blockers = np.zeros_like(held)
    if withdrawal:
        clear, foreseen = verdicts[1]
        foreseen &= candidate
        withdrawn = ~foreseen.any(axis=0)
        put_forward = np.where(withdrawn, -1, foreseen.argmax(axis=0))  # most ambitious
        blockers |= _counted(clear[top], params) & (put_forward != top)  # taken off the table
    else:
        withdrawn = np.zeros(len(at), dtype=bool)
        put_forward = np.where(candidate.any(axis=0), candidate.argmax(axis=0), -1)
    voted = ~withdrawn
    # The summit considers the tabled version and the lesser ones below it.
    passes &= np.arange(n_versions)[:, None] >= put_forward[None, :]
    any_pass = passes.any(axis=0)
    chosen = np.where(any_pass, passes.argmax(axis=0), -1)  # most ambitious accepted
    adopted = voted & any_pass
    voted_on_norm = voted & (put_forward == top)
    blockers |= _counted(objects[top], params) & (voted_on_norm & (chosen != top))
    summit = np.zeros(len(at), dtype=np.int8)
    summit[adopted] = ADOPTED
    summit[voted & ~any_pass] = FAILED
    summit[withdrawn] = WITHDRAWN
    version[adopted] = chosen[adopted]
    state.summit[at] = summit
    state.version_tabled[at] = np.where(voted, put_forward, -1)
    state.institution_version[at] = version
    state.blockers[:, at] = blockers
    state.tabled = tabled
    state.last_tabled[at] = step
    passed = at[adopted & (chosen == top)]
    state.institution[passed] = True
    state.adoption_step[passed] = step


@dataclass
class Trajectory:
    """What ``R`` replicates went through, step by step: the raw material of the result tables.

    Both engines fill one, through :meth:`record`, so their tables are built by the same code.
    """

    codes: tuple[str, ...]
    start_year: int
    support: list[np.ndarray] = field(default_factory=list)  # per step (N, R)
    stage: list[np.ndarray] = field(default_factory=list)  # per step (N, R)
    relaxation: list[np.ndarray] = field(default_factory=list)  # per step (N, R)
    regional: list[np.ndarray] = field(default_factory=list)  # per step (R,)
    tabled: list[np.ndarray] = field(default_factory=list)  # per step (R,)
    blockers: list[np.ndarray] = field(default_factory=list)  # per step (N, R)
    institution: list[np.ndarray] = field(default_factory=list)  # per step (R,)
    summit: list[np.ndarray] = field(default_factory=list)  # per step (R,) Summit codes
    version_tabled: list[np.ndarray] = field(default_factory=list)  # per step (R,)
    institution_version: list[np.ndarray] = field(default_factory=list)  # per step (R,)
    threshold: list[np.ndarray] = field(default_factory=list)  # per step (N, R)

    PER_STATE = ("support", "stage", "blockers", "threshold", "relaxation")
    PER_REPLICATE = ("regional", "tabled", "institution", "summit", "version_tabled",
                     "institution_version")

    def record(self, state: State) -> None:
        """Append a copy of the state's observable part."""
        if not self.support:
            self._profile, self._conflict = state.profile[:, :, 0].T, state.conflict[:, 0, 0]
        for name in (*self.PER_STATE, *self.PER_REPLICATE):
            getattr(self, name).append(getattr(state, name).copy())

    def arrays(self) -> dict[str, np.ndarray]:
        """Every series stacked with the replicate axis first: (R, T + 1, ...), in C order."""
        out = {name: np.stack(getattr(self, name), axis=1) for name in self.PER_REPLICATE}
        for name in self.PER_STATE:  # (T + 1, N, R) -> (R, T + 1, N)
            out[name] = np.ascontiguousarray(np.stack(getattr(self, name)).transpose(2, 0, 1))
        # (R, T + 1, N, K): n0 (1 - c g), as State.norms
        relaxation = out.pop("relaxation")[..., None]
        out["norms"] = np.ascontiguousarray(self._profile * (1.0 - self._conflict * relaxation))
        return out


def simulate(params: Params, seeds: Sequence[int]) -> Trajectory:
    """Run ``len(seeds)`` replicates for ``params.steps`` years, recording each step."""
    state = initial_state(params, seeds)
    trajectory = Trajectory(params.codes, params.start_year)
    trajectory.record(state)
    for _ in range(params.steps):
        advance(state, params)
        trajectory.record(state)
    return trajectory
