"""The browser page of the regional norm model (SolaraViz): ``normsim viz`` or ``normsim.viz.app``.

Needs the ``viz`` extra (``pip install -e ".[viz]"``). Nothing is imported here, so that
importing the package stays cheap; the page is :data:`normsim.viz.app.page`.
"""
