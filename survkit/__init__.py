"""survkit: Cox and competing-risks models for site-specific metastatic relapse."""

from importlib.metadata import PackageNotFoundError, version

from .coxph import CoxPH

try:
    __version__ = version("survkit")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = ["CoxPH", "__version__"]
