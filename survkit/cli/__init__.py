"""The ``survkit`` command line: scenarios, simulate, fit, report, simstudy.

User errors (a missing file, an unknown column, a bad formula, an unknown
scenario) print one line and exit with 2 (usage) or 1 (data); ``--debug``
shows the traceback instead. Progress bars appear only on a terminal.
"""

from __future__ import annotations

from .app import main
from .calibrate_command import calibrate
from .fit_command import fit
from .report_command import report
from .scenario_commands import scenarios, simulate
from .simstudy_command import simstudy

__all__ = ["main"]

for _command in (scenarios, simulate, fit, report, simstudy):
    main.add_command(_command)
scenarios.add_command(calibrate)
