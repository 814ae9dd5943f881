"""The shipped scenario and sweep files, installed as package data (``normsim.scenarios``).

This folder is data: YAML scenario files, ``threshold/`` and ``sweeps/``. This file only
makes it a package, so that :func:`normsim.scenario.resolve_path` finds the files by name
through :mod:`importlib.resources`, from a source checkout and an installed wheel alike.
"""
