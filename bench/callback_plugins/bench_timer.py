# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: bench_timer
type: aggregate
short_description: Write each task's wall time to a JSON file, for make bench
description:
  - Records the wall time of every task, from its start to its last result, and writes
    a JSON object of task names and seconds to the file named by E(BENCH_TIMINGS) when the play ends.
requirements:
  - enabled in ANSIBLE_CALLBACKS_ENABLED
"""

import json
import os
import time

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    """Task wall times for the benchmark; the bench reads them from BENCH_TIMINGS."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_timer"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._started: dict[str, float] = {}
        self._seconds: dict[str, float] = {}

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._started[task.get_name()] = time.perf_counter()

    def _finished(self, result, **_kwargs):
        name = result.task_name or result._task.get_name()  # pylint: disable=protected-access
        self._seconds[name] = time.perf_counter() - self._started[name]

    v2_runner_on_ok = v2_runner_on_failed = v2_runner_on_skipped = _finished

    def v2_playbook_on_stats(self, stats):
        with open(os.environ["BENCH_TIMINGS"], "w", encoding="utf-8") as timings:
            json.dump(self._seconds, timings)
