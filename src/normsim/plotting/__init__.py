"""Figures from result folders: runs, sweeps and sensitivity tables (:mod:`.figures`)."""

from normsim.plotting.figures import (
    FORMATS,
    adoption_order,
    binned,
    cascade_curves,
    cascade_heatmap,
    cascade_probability,
    final_sizes,
    lever_effects,
    main_effect_spread,
    plot_directory,
    save,
    sensitivity_indices,
    tipping_years,
    trajectories,
)

__all__ = [
    "FORMATS",
    "adoption_order",
    "binned",
    "cascade_curves",
    "cascade_heatmap",
    "cascade_probability",
    "final_sizes",
    "lever_effects",
    "main_effect_spread",
    "plot_directory",
    "save",
    "sensitivity_indices",
    "tipping_years",
    "trajectories",
]
