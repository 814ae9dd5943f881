"""normsim: agent-based simulation of norm diffusion on Mesa.

The first case is the ASEAN peacekeeping-force norm: ten member states carrying the six
core norms of the "ASEAN Way" (Haacke 2003), a Finnemore–Sikkink life-cycle stage each, and
Indonesia as norm entrepreneur. Under it sits a general threshold-diffusion engine.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("normsim")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

__all__ = ["__version__"]
