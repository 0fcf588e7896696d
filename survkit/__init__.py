"""survkit: Cox and competing-risks models for site-specific metastatic relapse."""

from importlib.metadata import PackageNotFoundError, version

from .aalen_johansen import aalen_johansen
from .cause_specific import CauseSpecificCox
from .coxph import CoxPH
from .fine_gray import FineGray
from .gray_test import gray_test

try:
    __version__ = version("survkit")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = [
    "CauseSpecificCox",
    "CoxPH",
    "FineGray",
    "__version__",
    "aalen_johansen",
    "gray_test",
]
