"""Mesa agents: the member states, the inspectable face of the array state.

An agent holds no state of its own: each attribute reads its row of the model's arrays,
which the single update rule in :mod:`normsim.models.region.dynamics` advances. So what an
agent shows is exactly what the batch engine computes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mesa.discrete_space import Cell, FixedAgent

from normsim.models.region.norms import StateStage

if TYPE_CHECKING:
    from normsim.models.region.dynamics import Params, State


class MemberState(FixedAgent):
    """A member state on its node of the interaction network.

    Attributes:
        code: the member's code (e.g. ISO-3), its identity in every table.
        name: full name.
        index: the state's position on every state axis of the arrays.
    """

    def __init__(self, model: Any, cell: Cell, code: str, name: str, index: int):
        super().__init__(model)
        self.cell = cell
        self.code = code
        self.name = name
        self.index = index

    @property
    def _state(self) -> State:
        return self.model.state

    @property
    def _params(self) -> Params:
        return self.model.params

    @property
    def support(self) -> float:
        """Support for the proposed norm, 0–1."""
        return float(self._state.support[self.index, 0])

    @property
    def stage(self) -> StateStage:
        """The state's own life-cycle stage (compare with ``is``)."""
        return StateStage(int(self._state.stage[self.index, 0]))

    @property
    def stage_name(self) -> str:
        """The stage's name, for tables and portrayal."""
        return self.stage.name.lower()

    @property
    def threshold(self) -> float:
        """This run's adoption threshold."""
        return float(self._state.threshold[self.index, 0])

    @property
    def norms(self) -> dict[str, float]:
        """Strength of each declared prior norm, 0–1, by its key."""
        row = self._state.norms[:, self.index, 0]
        return {key: float(row[j]) for j, key in enumerate(self._params.norm_keys)}

    @property
    def is_entrepreneur(self) -> bool:
        """Whether the state is an active norm entrepreneur this step."""
        step = self._state.step
        return any(e.state == self.index and e.first_step <= step <= e.last_step
                   for e in self._params.entrepreneurs)

    @property
    def blocked_last_vote(self) -> bool:
        """Whether the state objected at this step's summit vote."""
        return bool(self._state.blockers[self.index, 0])

    @property
    def personnel(self) -> int:
        """Uniformed UN peacekeepers (scenario data)."""
        return int(self.model.norm_scenario.data["states"][self.code]["personnel"])

    def __repr__(self) -> str:
        return f"MemberState({self.code}, support={self.support:.2f}, {self.stage_name})"
