"""The experiment layer: replicates, sweep files and designs, tasks, executors, the store.

It reaches each model kind only through :class:`normsim.models.kind.ModelKind`:
:mod:`~normsim.experiments.replicates` runs a scenario's replicates,
:mod:`~normsim.experiments.sweepfile` reads sweep files, :mod:`~normsim.experiments.designs`
samples their points, :mod:`~normsim.experiments.tasks` says what one unit of work runs,
:mod:`~normsim.experiments.executors` where it runs and :mod:`~normsim.experiments.store`
how it is stored and resumed; :mod:`~normsim.experiments.posterior` draws parameter sets
from a calibration's posterior and runs under them (``run``, ``sweep``, ``viz`` and
``figures`` with ``--posterior``), :mod:`~normsim.experiments.headline` the experiments
behind the headline figures.
"""
