"""Adaptive micro-batching for on-demand serving.

Requests queue their rows; one worker takes everything queued (up to ``max_batch_rows``), runs the
model once on the concatenation in a worker thread (the kernels release the GIL, so the event loop
keeps accepting requests meanwhile) and hands each request exactly its own slice of the outputs.
At low load a request runs at once (no added delay unless ``max_delay_s`` > 0); under load, rows
that arrive while a batch runs form the next batch. That is what makes it adaptive. Batches of at
most ``inline_rows`` rows run on the event loop's own thread: a hand-off to a worker thread costs
two context switches, which on a busy machine cost more than predicting a few rows.

Items are Arrow tables or 2-D NumPy matrices (rows × inputs); one batcher takes one kind.

Correct by construction: outputs are split by the row counts recorded at submission, in order.
If a batch fails, its requests are retried one by one, so one bad request fails alone.
Overload (more than ``max_queue_rows`` waiting) raises :class:`Overloaded` at once; a request
whose deadline passes raises :class:`DeadlineExceeded`: the server answers 503, never hangs.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
from typing import Callable

import numpy as np
import pyarrow as pa

__all__ = ["MicroBatcher", "Overloaded", "DeadlineExceeded"]


class Overloaded(Exception):
    """Too many rows are waiting; the caller should answer 503 (or 429) and let the client retry."""


class DeadlineExceeded(Exception):
    """The request waited longer than its deadline."""


class MicroBatcher:
    def __init__(
        self,
        fn: Callable[[pa.Table | np.ndarray], dict[str, np.ndarray]],
        *,
        max_batch_rows: int = 512,
        max_delay_s: float = 0.0,
        max_queue_rows: int = 200_000,
        deadline_s: float = 10.0,
        executor: concurrent.futures.Executor | None = None,
        on_batch: Callable[[int, int], None] | None = None,
        inline_rows: int = 64,
    ):
        if max_batch_rows < 1:
            raise ValueError(f"max_batch_rows must be >= 1, got {max_batch_rows}")
        if max_delay_s < 0:
            raise ValueError(f"max_delay_s must be >= 0, got {max_delay_s}")
        self.fn = fn
        self.max_batch_rows = max_batch_rows
        self.max_delay_s = max_delay_s
        self.max_queue_rows = max_queue_rows
        self.deadline_s = deadline_s
        self._executor = executor or concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="mlcore-batch")
        self._own_executor = executor is None
        self._queue: collections.deque = collections.deque()
        self._rows_queued = 0
        self._wakeup: asyncio.Event | None = None
        self._task: asyncio.Task | None = None
        self._on_batch = on_batch
        self.inline_rows = inline_rows

    @property
    def rows_queued(self) -> int:
        return self._rows_queued

    def start(self) -> None:
        if self._task is None:
            self._wakeup = asyncio.Event()
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Finish what is queued, then stop the worker."""
        while self._queue:
            await asyncio.sleep(0.001)
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        if self._own_executor:
            self._executor.shutdown(wait=True)

    async def submit(self, table: pa.Table | np.ndarray) -> dict[str, np.ndarray]:
        n = _rows(table)
        if self._task is None:
            self.start()
        if self._rows_queued + n > self.max_queue_rows:
            raise Overloaded(f"{self._rows_queued} rows are waiting (limit {self.max_queue_rows}); retry later")
        fut = asyncio.get_running_loop().create_future()
        self._queue.append((table, fut))
        self._rows_queued += n
        self._wakeup.set()
        try:
            return await asyncio.wait_for(asyncio.shield(fut), timeout=self.deadline_s)
        except asyncio.TimeoutError:
            raise DeadlineExceeded(f"no answer within the {self.deadline_s} s deadline") from None

    def _take(self) -> list:
        batch, rows = [], 0
        while self._queue:
            table, fut = self._queue[0]
            n = _rows(table)
            if batch and rows + n > self.max_batch_rows:
                break
            self._queue.popleft()
            self._rows_queued -= n
            if fut.cancelled():
                continue
            batch.append((table, fut))
            rows += n
        return batch

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if not self._queue:
                self._wakeup.clear()
                await self._wakeup.wait()
            if self.max_delay_s and self._rows_queued < self.max_batch_rows:
                await asyncio.sleep(self.max_delay_s)
            batch = self._take()
            if not batch:
                continue
            tables = [t for t, _ in batch]
            try:
                combined = _concat(tables)
                n_rows = _rows(combined)
                if n_rows <= self.inline_rows:
                    outputs = self.fn(combined)
                else:
                    outputs = await loop.run_in_executor(self._executor, self.fn, combined)
                if self._on_batch is not None:
                    self._on_batch(len(batch), n_rows)
            except Exception as exc:  # noqa: BLE001 - retried per request below
                if len(batch) == 1:
                    if not batch[0][1].done():
                        batch[0][1].set_exception(exc)
                    continue
                for table, fut in batch:
                    try:
                        res = await loop.run_in_executor(self._executor, self.fn, table)
                        if not fut.done():
                            fut.set_result(res)
                    except Exception as one:  # noqa: BLE001
                        if not fut.done():
                            fut.set_exception(one)
                continue
            start = 0
            for table, fut in batch:
                stop = start + _rows(table)
                if not fut.done():
                    fut.set_result({k: v[start:stop] for k, v in outputs.items()})
                start = stop


def _rows(item) -> int:
    return item.shape[0] if isinstance(item, np.ndarray) else item.num_rows


def _concat(items):
    if len(items) == 1:
        return items[0]
    if isinstance(items[0], np.ndarray):
        return np.concatenate(items, axis=0)
    return pa.concat_tables(items)
