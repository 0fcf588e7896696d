"""The installed distribution's version (or ``0+unknown`` in a never-installed source tree)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("survkit")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
