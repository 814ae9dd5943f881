"""The theory's vocabulary: the six ASEAN Way norms, life-cycle stages and their transitions.

The six core norms are Haacke's (2003) reading of ASEAN's diplomatic and security culture
(seed 002:300–560). Stages follow Finnemore & Sikkink's (1998) norm life cycle (002:276–284),
for each state and for the region. Every stage change the model makes is listed in one of
the two transition tables below; a test asserts that no run moves outside them.
"""

from dataclasses import dataclass
from enum import Enum, IntEnum


class CoreNorm(IntEnum):
    """The six core norms of the ASEAN Way (Haacke 2003; seed 002:809–886).

    The integer value is the norm's column in every norm-strength array.
    """

    SOVEREIGNTY = 0
    """Sovereign equality: fear of foreign military presence (002:812–817)."""
    NON_FORCE = 1
    """Non-recourse to force and peaceful settlement: PKOs may need force (002:822–834)."""
    NON_INTERFERENCE = 2
    """Non-interference and non-intervention: "a never-ending norm clash" (002:836–857)."""
    NON_INVOLVEMENT = 3
    """Non-involvement of ASEAN in unresolved bilateral conflicts (002:859–865)."""
    QUIET_DIPLOMACY = 4
    """Quiet diplomacy: at odds with open, transparent operations (002:867–876)."""
    MUTUAL_RESPECT = 5
    """Mutual respect and tolerance: non-confrontational bargaining (002:878–886)."""

    @property
    def key(self) -> str:
        """The norm's name in scenario files, e.g. ``non_interference``."""
        return self.name.lower()

    @property
    def label(self) -> str:
        """The norm's name in words, e.g. ``non-interference and non-intervention``."""
        return NORM_LABELS[self][0]

    @property
    def clash(self) -> str:
        """Why the norm obstructs a regional force, with its source (Haacke 2003)."""
        return NORM_LABELS[self][1]


NORM_KEYS: tuple[str, ...] = tuple(norm.key for norm in CoreNorm)

NORM_LABELS: dict[CoreNorm, tuple[str, str]] = {
    CoreNorm.SOVEREIGNTY: (
        "sovereign equality",
        "members fear foreign military presence on their soil (002:812–817)",
    ),
    CoreNorm.NON_FORCE: (
        "non-recourse to force and peaceful settlement",
        "peacekeeping operations may need to use force (002:822–834)",
    ),
    CoreNorm.NON_INTERFERENCE: (
        "non-interference and non-intervention",
        'peacekeeping is seen as intervention, "a never-ending norm clash" (002:836–857)',
    ),
    CoreNorm.NON_INVOLVEMENT: (
        "non-involvement of ASEAN in unresolved bilateral conflicts",
        "peacekeepers observe and monitor between conflict parties (002:859–865)",
    ),
    CoreNorm.QUIET_DIPLOMACY: (
        "quiet diplomacy",
        "behind-the-scenes talks are at odds with open, transparent operations (002:867–876)",
    ),
    CoreNorm.MUTUAL_RESPECT: (
        "mutual respect and tolerance",
        "non-confrontational bargaining may not suffice to prepare a force (002:878–886)",
    ),
}
"""Each core norm's name in words and its clash with a regional force (seed 002:809–886).

Enum members carry no docstrings at run time: the parameter table reads these.
"""


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
    """The non-adopters whose core-norm profile is closest to the entrepreneur's:
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
        "adopter for internalization_years consecutive years",
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
