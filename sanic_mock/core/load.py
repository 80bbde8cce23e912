"""The simulated engine's capacity: `--max-concurrency N` slots and `--load-factor F`.

Each generating request (chat, completions, embeddings) holds one of N slots from when it
starts until its last part is due. A request that arrives with all N slots held waits, in
arrival (FIFO) order, for the earliest one to free, and that wait is added before its first
token, as a serving engine's queue adds to time-to-first-token. `Engine` keeps the N end times
in a heap: a new request takes the earliest-free slot, so the queue needs no task or timer; the
transports just see a reply that is due later.

Under load the inter-token gap stretches as llm-d's time-factor-under-load does: a request that
starts with `running` other requests running gets gaps of ITL x (1 + (F - 1) x running / N), so
alone it runs at the configured ITL and with the engine full at nearly F times it. A JSON answer
waits as long as the same stretched stream would take: the share of its wait that stands for
its token gaps (`Reply.decode`) is stretched alike.

The slots are per worker process (`--workers N` serves N times the concurrency).
"""

from __future__ import annotations

import heapq

from sanic_mock.core.reply import Reply


class Engine:
    """One worker's slots (see the module docstring)."""

    def __init__(self, slots: int, factor: float = 1.0) -> None:
        self.slots = slots
        self.factor = factor
        self._ends: list[float] = []  # when each held slot frees, a heap of at most `slots`
        self.queued_until = 0.0  # when the last request admitted got its slot

    def admit(self, reply: Reply, now: float) -> Reply:
        """`reply`, arriving at `now`, delayed by its wait for a slot and stretched by the
        load it starts under."""
        ends = self._ends
        while ends and ends[0] <= now:
            heapq.heappop(ends)
        start = now
        if len(ends) >= self.slots:
            start = heapq.heappop(ends)  # the earliest slot to free
        running = sum(1 for end in ends if end > start)
        wait = start - now
        due = reply.due()
        stretch = 1.0 + (self.factor - 1.0) * running / self.slots
        self.queued_until = start
        if wait or stretch != 1.0:
            first = due[0]
            if reply.frames is None:
                decode = reply.decode * stretch
                due = [wait + first + decode - reply.decode]
                reply = reply._replace(first_delay=due[0], decode=decode)
            else:
                due = [wait + first + (at - first) * stretch for at in due]
                reply = reply._replace(offsets=tuple(due))
        heapq.heappush(ends, now + due[-1])
        return reply
