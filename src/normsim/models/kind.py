"""The model-kind interface: all that the scenario and experiment layers may ask of a model.

A scenario file's ``kind:`` names a :class:`ModelKind` in the registry
(:data:`normsim.models.KINDS`). The scenario layer validates a file with the kind's
``schema`` and ``check``, and asks it the horizon; the experiment layer runs replicates,
builds the result tables and varies levers through it alone. So a new kind is a new folder
under ``normsim/models`` with an object that has these attributes, registered once.

A kind may also offer ``statistics(scenario, raw, statistics)``: the pattern statistics of
:mod:`normsim.analysis.patterns` computed from :meth:`ModelKind.simulate`'s raw output,
per statistic a (R,) array of 1.0, 0.0 or NaN (no value), the values the tables would
give. The calibration then skips the tables (``normsim.experiments.calibration``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    import pandas as pd

    from normsim.results import Results
    from normsim.scenario import Scenario
    from normsim.schema import Section, Spec, _Context

type Tables = tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None]
"""The runs, steps and (optional) agents tables of a set of runs."""


@runtime_checkable
class ModelKind(Protocol):
    """A model kind: its schema, how it runs, its tables, its summary and its levers.

    Attributes:
        name: the ``kind:`` value of its scenario files.
        schema: the :class:`~normsim.schema.Section` its files are validated against.
        engines: the engines :meth:`simulate` takes (the first is the default).
        columns: the outcome columns of its result tables, which a sweep parameter may not
            take as its name.
        mesa_model: the Mesa model class (the inspectable face), or None.
        page: the module of its SolaraViz page (served by ``normsim viz``), or None.
    """

    name: str
    schema: Section
    engines: tuple[str, ...]
    columns: frozenset[str]
    page: str | None

    @property
    def mesa_model(self) -> type | None:
        """The Mesa model class, imported when asked for, or None."""
        ...

    def check(self, data: dict[str, Any], ctx: _Context) -> None:
        """Record in ``ctx`` what is wrong across keys of validated ``data``."""
        ...

    def horizon(self, data: dict[str, Any]) -> int:
        """The number of steps a scenario with ``data`` runs."""
        ...

    def with_steps(self, data: dict[str, Any], steps: int) -> dict[str, Any]:
        """The dotted-key overrides that make the scenario run ``steps`` steps."""
        ...

    def describe(self, data: dict[str, Any]) -> str:
        """A few words on the scenario, for ``normsim validate``."""
        ...

    def facts(self, data: dict[str, Any]) -> dict[str, Any]:
        """The scenario's key facts (horizon, tipping share) for a sweep's metadata."""
        ...

    def simulate(self, scenario: Scenario, seeds: list[int], *, engine: str = "batch",
                 agents: bool = True, progress: bool = False) -> Any:
        """Run one replicate per seed; return the raw output :meth:`tables` reads."""
        ...

    def tables(self, scenario: Scenario, raw: Any, seeds: list[int], run_ids: list[int],
               replicates: list[int], agents: bool) -> Tables:
        """The runs, steps and (if ``agents`` and the kind records them) agents tables.

        Every row of every table carries ``run_id`` and ``seed``; the runs table also
        ``replicate``, one row per run in the order of ``run_ids``.
        """
        ...

    def summarize(self, results: Results) -> str:
        """The text summary of a run that ``normsim run`` prints."""
        ...

    def levers(self, scenario: Scenario | None) -> dict[str, str]:
        """The named levers (what an actor can choose) and what each means."""
        ...

    def lever_overrides(self, scenario: Scenario, **levers: Any) -> dict[str, Any]:
        """Translate named levers into dotted-key overrides of ``scenario``."""
        ...

    def lever_spec(self, scenario: Scenario | None, lever: str) -> Spec | None:
        """The schema entry that says a lever's allowed values, or None."""
        ...
