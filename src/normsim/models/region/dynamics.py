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
"""

from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np

from normsim.models.region.norms import RegionalStage, StateStage, Strategy


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
    regime_conflict: float  # weight of regime insecurity on the framed regime clash
    appeal: float  # 1 - the price of localization (a weaker norm pulls less)
    support: np.ndarray  # (N,) initial support for the proposed norm
    threshold: np.ndarray  # (N,) adoption thresholds
    tipping_weight: np.ndarray  # (N,) weights of "critical states" in the tipping share
    regime_insecurity: np.ndarray  # (N,)
    prestige_motive: np.ndarray  # (N,)
    first_deployment: np.ndarray  # (N,) year of first UN deployment, inf = never
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
    experience_years: float
    receptivity_floor: float
    tipping_share: float
    internalization_share: float
    summit_interval: int
    max_objectors: int  # the decision rule: a vote survives this many objectors,
    needed_in_favour: int  # needs this many members in favour (adopters),
    veto: np.ndarray  # (N,) and no objection of a veto holder (see _summit)
    acquiescence_margin: float
    table_when_tipped: bool
    retable_interval: int

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
    first_adoption: np.ndarray  # (R, N) step of first adoption, -1 = never
    regional: np.ndarray  # (R,) int8 RegionalStage codes
    threshold: np.ndarray  # (R, N) this replicate's draw of the thresholds
    noise: np.ndarray  # (R, steps, N) standard normal draws, one row per step
    institution: np.ndarray  # (R,) adopted by the decision rule
    adoption_step: np.ndarray  # (R,) step of institutional adoption, -1 = never
    last_tabled: np.ndarray  # (R,) step of the last tabled proposal
    pending: np.ndarray  # (R,) a scheduled proposal waits for the next summit
    tabled: np.ndarray  # (R,) a proposal was voted on this step
    blockers: np.ndarray  # (R, N) the members whose objection sank this step's vote
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
    threshold = np.clip(params.threshold + params.threshold_sd * perturbation, 0.01, 0.99)
    support = np.broadcast_to(params.support, (r, n)).copy()
    _pin_entrepreneurs(support, params, 0)
    stage = np.where(support >= threshold, StateStage.ADOPTER, StateStage.RESISTANT)
    stage = stage.astype(np.int8)
    state = State(
        step=0,
        support=support,
        norms=np.broadcast_to(params.norms, (r, n, params.norms.shape[1])).copy(),
        stage=stage,
        years_adopted=np.zeros((r, n), dtype=np.int32),
        first_adoption=np.where(stage >= StateStage.ADOPTER, 0, -1).astype(np.int32),
        regional=np.full(r, RegionalStage.EMERGENCE, dtype=np.int8),
        threshold=threshold,
        noise=noise,
        institution=np.zeros(r, dtype=bool),
        adoption_step=np.full(r, -1, dtype=np.int32),
        last_tabled=np.full(r, -(10**6), dtype=np.int32),
        pending=np.zeros(r, dtype=bool),
        tabled=np.zeros(r, dtype=bool),
        blockers=np.zeros((r, n), dtype=bool),
        ties=params.ties.copy(),
        regime_insecurity=params.regime_insecurity.copy(),
        salience=params.salience.copy(),
        generators=generators,
    )
    state.regional = _regional_stage(state, params)
    return state


def _pin_entrepreneurs(support: np.ndarray, params: Params, step: int) -> None:
    """An active entrepreneur is committed to its norm: its support is held at 1."""
    for e in params.entrepreneurs:
        if e.first_step <= step <= e.last_step:
            support[:, e.state] = 1.0


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


def experience(params: Params, step: int) -> np.ndarray:
    """(N,) peacekeeping experience in [0, 1]: years since first UN deployment, saturating.

    Non-contributors "require individual political leadership" to start; once engaged,
    "strong institutional motivations" keep them in (004:844–846).
    """
    years = params.year(step) - params.first_deployment
    return np.clip(years / params.experience_years, 0.0, 1.0)


def lobbying_targets(state: State, params: Params, entrepreneur: Entrepreneur) -> np.ndarray:
    """(R, N) the states an entrepreneur lobbies this step, by its strategy."""
    not_entrepreneur = np.ones(params.n_states, dtype=bool)
    for e in _active(params, state.step + 1):
        not_entrepreneur[e.state] = False
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


def persuasion(state: State, params: Params, receptivity: np.ndarray) -> np.ndarray:
    """(R, N) persuasion pressure: intensity x tie x credibility x receptivity.

    The entrepreneur's yearly effort is shared equally among its targets, so lobbying
    fewer states presses each of them harder.
    """
    pressure = np.zeros_like(state.support)
    for e in _active(params, state.step + 1):
        targets = lobbying_targets(state, params, e)
        count = targets.sum(axis=1, keepdims=True)
        per_target = np.divide(e.intensity, count, out=np.zeros(count.shape), where=count > 0)
        pressure += targets * per_target * state.ties[e.state] * e.credibility
    return pressure * params.appeal * receptivity


def neighbour_share(adopted: np.ndarray, ties: np.ndarray) -> np.ndarray:
    """(R, N) tie-weighted share of a state's neighbours that hold the norm (Watts 2002)."""
    strength = ties.sum(axis=1)
    weighted = np.einsum("rj,ij->ri", adopted.astype(float), ties)
    return np.divide(weighted, strength, out=np.zeros_like(weighted), where=strength > 0)


def weighted_adopter_share(adopted: np.ndarray, params: Params) -> np.ndarray:
    """(R,) adopter share weighted by each state's tipping weight ("critical states")."""
    w = params.tipping_weight
    return (adopted * w).sum(axis=1) / w.sum()


def resistance(state: State, params: Params) -> np.ndarray:
    """(R, N) resistance from the prior norms, weighted by their framed conflict.

    Regime insecurity adds to the clash: in the ASEAN case the more authoritarian members
    "feared creating an instrument that would later be turned against them" (001:1 c.2126).
    The clash is the mean over the declared norms (0 when a scenario declares none).
    """
    clash = np.einsum("rnk,k->rn", state.norms, params.conflict) / max(params.conflict.size, 1)
    return params.resistance * (clash + params.regime_conflict * state.regime_insecurity)


def advance(state: State, params: Params) -> None:
    """Advance every replicate by one year (MODEL-BRIEF §4), in place.

    1. events; 2. lobbying; 3. support moves with persuasion, neighbour influence, cascade
    socialization, prestige and regional need, minus resistance from the core norms, plus
    noise; 4. stage transitions (``norms.STATE_TRANSITIONS``) and identity drift;
    5. the regional stage (``norms.REGIONAL_TRANSITIONS``); 6. a summit votes on a tabled
    proposal by the scenario's decision rule.
    """
    step = state.step + 1
    if step > state.noise.shape[1]:  # an interactive run beyond the horizon: draw more
        more = draw_noise(state.generators, params.steps, params.n_states)
        state.noise = np.concatenate([state.noise, more], axis=1)
    apply_events(state, params, step)

    adopted = state.adopted
    expert = experience(params, step)
    receptivity = params.receptivity_floor + (1.0 - params.receptivity_floor) * expert
    tipped = state.regional >= RegionalStage.CASCADE
    un, crisis, rivalry = (
        state.salience[Channel.UN_PARTNERSHIP],
        state.salience[Channel.CRISIS],
        state.salience[Channel.RIVALRY],
    )
    pull = (
        persuasion(state, params, receptivity)
        + params.neighbour_influence * neighbour_share(adopted, state.ties)
        + params.cascade_socialization * (tipped * state.adopter_share())[:, None]
        + params.prestige * params.appeal * params.prestige_motive * expert
        + params.crisis_response * crisis
        + params.un_response * un
        + params.rivalry_response * rivalry
    )
    push = resistance(state, params)
    support = state.support + pull * (1.0 - state.support) - push * state.support
    support += params.noise * state.noise[:, step - 1, :]
    np.clip(support, 0.0, 1.0, out=support)
    _pin_entrepreneurs(support, params, step)

    stage = _next_stage(state, params, support, step)
    newly = (stage >= StateStage.ADOPTER) & (state.first_adoption < 0)
    state.first_adoption[newly] = step
    state.years_adopted = np.where(stage >= StateStage.ADOPTER, state.years_adopted + 1, 0)

    # Identity drift: sustained adoption slowly relaxes the conflicting core norms; without
    # it they recover towards the state's original profile (the two-way link).
    holds = (stage >= StateStage.ADOPTER)[:, :, None]
    identity = np.where(holds, params.norms * (1.0 - params.conflict), params.norms)
    state.norms += params.identity_drift * (identity - state.norms)

    state.support, state.stage, state.step = support, stage, step
    state.regional = _regional_stage(state, params)
    _summit(state, params, step)
    state.salience *= params.salience_decay


def _next_stage(state: State, params: Params, support: np.ndarray, step: int) -> np.ndarray:
    """Apply the state transition table to every replicate at once."""
    stage = state.stage.copy()
    committed = np.zeros(params.n_states, dtype=bool)
    for e in _active(params, step):
        committed[e.state] = True
    resistant = state.stage == StateStage.RESISTANT
    adopter = state.stage == StateStage.ADOPTER
    # Norms "do not appear out of thin air" (Finnemore & Sikkink 1998): a state can adopt
    # only a norm on the agenda, one that an entrepreneur advocates or some state holds.
    on_agenda = committed.any() | state.adopted.any(axis=1, keepdims=True)
    stage[resistant & on_agenda & (support >= state.threshold)] = StateStage.ADOPTER
    reverts = adopter & (support < state.threshold - params.reversal_margin) & ~committed
    stage[reverts] = StateStage.RESISTANT
    matures = adopter & ~reverts & (state.years_adopted + 1 >= params.internalization_years)
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
    regional[cascade & tips & (internalized >= params.internalization_share)] = (
        RegionalStage.INTERNALIZATION
    )
    return regional


def _summit(state: State, params: Params, step: int) -> None:
    """A summit votes on a tabled proposal by the scenario's decision rule.

    Under every rule a member is *in favour* when it holds the norm (adopter or
    internalized) and *objects* when it is resistant with support below its threshold by
    more than the acquiescence margin; closer to it, it abstains rather than cause a loss
    of face (in the ASEAN case, 002:515–516). One formula serves the rules
    (:func:`~normsim.models.region.params.decision_arrays`): the vote passes when at most
    ``max_objectors`` object, at least ``needed_in_favour`` are in favour, and no veto
    holder objects. Consensus (ASEAN: one objector blocks, Charter Art. 20; 002:480–484) is
    0 objectors; ``max_objectors`` k; a qualified majority has no objector limit, a count
    in favour and its veto holders.

    The blockers recorded are the objectors whose objection counts: none when the vote
    passes; when it fails, the objecting veto holders if any vetoed, else every objector
    (all objectors under consensus and ``max_objectors``; under a qualified majority that
    fell short, those who voted against; none if it fell short on abstentions alone).
    """
    state.tabled = np.zeros(state.replicates, dtype=bool)
    state.blockers = np.zeros_like(state.support, dtype=bool)
    if step % params.summit_interval:
        return
    auto = np.zeros(state.replicates, dtype=bool)
    if params.table_when_tipped and _active(params, step):
        auto = (state.regional >= RegionalStage.CASCADE) & (
            step - state.last_tabled >= params.retable_interval
        )
    tabled = (state.pending | auto) & ~state.institution
    state.pending[:] = False
    if not tabled.any():
        return
    objects = (state.stage == StateStage.RESISTANT) & (
        state.support < state.threshold - params.acquiescence_margin
    )
    favour = state.stage >= StateStage.ADOPTER
    vetoes = objects & params.veto
    vetoed = vetoes.any(axis=1)
    passed = tabled & ~vetoed & (objects.sum(axis=1) <= params.max_objectors) & (
        favour.sum(axis=1) >= params.needed_in_favour)
    counted = np.where(vetoed[:, None], vetoes, objects)
    state.blockers = counted & (tabled & ~passed)[:, None]
    state.tabled = tabled
    state.last_tabled[tabled] = step
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

    def record(self, state: State) -> None:
        """Append a copy of the state's observable part."""
        self.support.append(state.support.copy())
        self.stage.append(state.stage.copy())
        self.norms.append(state.norms.copy())
        self.regional.append(state.regional.copy())
        self.tabled.append(state.tabled.copy())
        self.blockers.append(state.blockers.copy())
        self.institution.append(state.institution.copy())

    def arrays(self) -> dict[str, np.ndarray]:
        """Every series stacked with the replicate axis first: (R, T + 1, ...)."""
        names = ("support", "stage", "norms", "regional", "tabled", "blockers", "institution")
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
