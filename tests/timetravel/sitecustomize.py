"""Run this Python process at another instant: ``TIME_MACHINE_AT=2026-12-07T09:11:00+08:00``.

The test suite puts this folder on ``PYTHONPATH`` when that variable is set (see
``tests/conftest.py``), so every process the tests start — ``xuncha run``, the writer
process, the CLI — starts at the same instant and runs on from it (``time-machine`` moves
the wall clock only; sleeps and timeouts keep real time). For checking that nothing in the
suite depends on the hour, weekday or date it runs at.
"""

import os

_AT = os.environ.get("TIME_MACHINE_AT", "").strip()
if _AT:
    import time_machine

    time_machine.travel(_AT, tick=True).start()
