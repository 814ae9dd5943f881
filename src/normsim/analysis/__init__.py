"""Analysis of result folders and tables: intervals, main effects, sensitivity indices.

Everything here reads what runs and sweeps wrote (``runs.parquet``, ``points.parquet``,
``metadata.json``) and never imports the experiment layer that wrote it.
"""
