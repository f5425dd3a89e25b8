"""A Dask unit's fits spread over the cluster's workers.

Why: a unit is one task, so one big dataset would run on one worker thread while the others
idle; its fits are independent within a batch (the K + 1 teachers, the c-selection fits, the
final students). Inside a unit's task, :class:`DaskSpread` submits a batch's fits as tasks of
their own from the task (``worker_client``: the unit's thread secedes from the worker's pool
while it waits, so it holds no thread the fits could use) and gathers them in order. The batch's
function and its data travel once per batch (scattered), not once per fit. Which fits run, with
which seeds and inputs, does not change, so neither do the numbers.
"""

from __future__ import annotations

from collections.abc import Callable

from kdcli.science.budget import remote_fit


class DaskSpread:
    """:class:`kdcli.science.budget.Spreader` over the cluster of the worker running the unit."""

    def map(self, fn: Callable, items: list, plan: list[tuple[str, str, int, bool]]) -> list:
        from distributed import worker_client

        with worker_client() as client:
            [shared] = client.scatter([fn], hash=False)
            futures = [
                client.submit(remote_fit, shared, item, *how, pure=False)
                for item, how in zip(items, plan, strict=True)
            ]
            try:
                return client.gather(futures)
            finally:  # a failed fit leaves its batch's other fits nothing to finish for
                client.cancel(futures)


def in_dask_worker() -> bool:
    try:
        from distributed import get_worker

        get_worker()
    except (ImportError, ValueError):
        return False
    return True
