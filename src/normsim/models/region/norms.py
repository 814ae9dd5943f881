"""The theory's vocabulary: life-cycle stages and their transitions, framings, strategies.

The prior norms a proposed norm meets are data: each scenario declares them under
``norms`` (key, name, meaning, source); the ASEAN files declare the six core norms of the
ASEAN Way, Haacke's (2003) reading of ASEAN's diplomatic and security culture (seed
002:300–560, 002:809–886). Stages follow Finnemore & Sikkink's (1998) norm life cycle
(002:276–284), for each state and for the region. Every stage change the model makes is
listed in one of the two transition tables below; a test asserts that no run moves outside them.
"""

from dataclasses import dataclass
from enum import Enum, IntEnum


class StateStage(IntEnum):
    """A member state's own life-cycle stage with respect to the proposed norm.

    ``RESISTANT`` states have not accepted the norm. ``ADOPTER`` states have: before the
    regional tipping point they are Finnemore & Sikkink's "norm leaders", after it their
    followers. ``INTERNALIZED`` states hold it as taken for granted; the stage is absorbing.
    """

    RESISTANT = 0
    ADOPTER = 1
    INTERNALIZED = 2


class RegionalStage(IntEnum):
    """The region's life-cycle stage (Finnemore & Sikkink 1998; 002:276–284)."""

    EMERGENCE = 0
    CASCADE = 1
    INTERNALIZATION = 2


class Framing(Enum):
    """How the entrepreneur frames the proposed norm (norm localization, Acharya 2004)."""

    STANDARD = "standard"
    """A regional standby force on the African model (002:780–782)."""
    LOCALIZED = "localized"
    """UN-mandated, consent-based, non-interventionist, minimum force, national command
    retained (001:1 c.2818–3016, c.4740–4860)."""


class Strategy(Enum):
    """Whom an entrepreneur lobbies (MODEL-BRIEF §3)."""

    ALL = "all"
    """Every state that has not internalized the norm, effort shared equally."""
    RECEPTIVE = "receptive"
    """The non-adopters with the highest support: the persuadable."""
    CENTRAL = "central"
    """The non-adopters with the strongest ties in the interaction network."""
    HARDLINERS = "hardliners"
    """The non-adopters with the lowest support."""
    COALITION = "coalition"
    """The non-adopters whose prior-norm profile is closest to the entrepreneur's:
    a coalition of the like-minded (001:1 c.2479–2600)."""


@dataclass(frozen=True)
class Transition[S: IntEnum]:
    """One allowed stage change and the rule that triggers it."""

    source: S
    target: S
    rule: str


STATE_TRANSITIONS: tuple[Transition[StateStage], ...] = (
    Transition(
        StateStage.RESISTANT,
        StateStage.ADOPTER,
        "support >= the state's adoption threshold, and the norm is on the agenda "
        "(an active entrepreneur, or some state holds it)",
    ),
    Transition(
        StateStage.ADOPTER,
        StateStage.RESISTANT,
        "support < threshold - reversal_margin (reversal before internalization)",
    ),
    Transition(
        StateStage.ADOPTER,
        StateStage.INTERNALIZED,
        "adopter for >= internalization_years consecutive years, support >= threshold, the "
        "combined clash relaxed by internalization_relaxation since adoption, and the "
        "region past the tipping point",
    ),
)

REGIONAL_TRANSITIONS: tuple[Transition[RegionalStage], ...] = (
    Transition(
        RegionalStage.EMERGENCE,
        RegionalStage.CASCADE,
        "weighted adopter share >= tipping_share (the tipping point)",
    ),
    Transition(
        RegionalStage.CASCADE,
        RegionalStage.EMERGENCE,
        "weighted adopter share < tipping_share (the cascade collapses)",
    ),
    Transition(
        RegionalStage.CASCADE,
        RegionalStage.INTERNALIZATION,
        "share of internalized states >= internalization_share",
    ),
)


def allowed_pairs[S: IntEnum](table: tuple[Transition[S], ...]) -> frozenset[tuple[int, int]]:
    """The (source, target) codes a table allows, for checking recorded trajectories."""
    return frozenset((int(t.source), int(t.target)) for t in table)
