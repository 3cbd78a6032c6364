"""Reading ahead: the next batches of a replay are read on a thread while the current one is
replayed. SQLite steps through a query's rows without holding the GIL, so with a second core
reading overlaps replaying. The batches, and their order, are the reader's own; at most
`depth` wait in memory."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import TypeVar

T = TypeVar("T")
_ITEM, _END, _ERROR = 0, 1, 2
POLL_S = 0.1  # how often a reader blocked on a full queue looks whether the replay stopped


def read_ahead(batches: Callable[[], Iterator[T]], depth: int = 2) -> Iterator[T]:
    """The items of `batches()`, produced on a thread of their own (which also opens and closes
    whatever the iterator holds, e.g. a SQLite connection). An error there is raised here; a
    consumer that stops early stops the thread."""
    ready: queue.Queue[tuple[int, object]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(message: tuple[int, object]) -> bool:
        while not stop.is_set():
            try:
                ready.put(message, timeout=POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            source = batches()
            try:
                for item in source:
                    if not put((_ITEM, item)):
                        return
            finally:
                close = getattr(source, "close", None)
                if close is not None:
                    close()
            put((_END, None))
        except BaseException as exc:  # handed to the consumer, raised there
            put((_ERROR, exc))

    thread = threading.Thread(target=produce, name="replay-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            kind, value = ready.get()
            if kind == _ITEM:
                yield value  # type: ignore[misc]
            elif kind == _END:
                return
            else:
                raise value  # type: ignore[misc]
    finally:
        stop.set()
        thread.join()
