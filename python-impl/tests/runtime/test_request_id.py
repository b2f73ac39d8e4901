"""Generated request ids: random UUIDs in their usual text form, never the same twice, across threads and forks."""

from __future__ import annotations

import multiprocessing
import threading
import uuid
from multiprocessing.connection import Connection

from twinapi_runtime.middleware import random_uuid


def test_ids_are_version_4_uuids_in_their_usual_text() -> None:
    for _ in range(1000):  # several refills of the pool
        text = random_uuid()
        parsed = uuid.UUID(text)
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122
        assert str(parsed) == text


def test_ids_do_not_repeat_within_or_across_threads() -> None:
    drawn: list[list[str]] = [[] for _ in range(4)]

    def draw(into: list[str]) -> None:
        into.extend(random_uuid() for _ in range(5000))

    threads = [threading.Thread(target=draw, args=(into,)) for into in drawn]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    every = [text for into in drawn for text in into]
    assert len(every) == 20000 and len(set(every)) == 20000


def _child(out: Connection) -> None:
    out.send([random_uuid() for _ in range(3)])


def test_a_forked_child_does_not_repeat_its_parents_ids() -> None:
    random_uuid()  # the parent's pool is filled before the fork
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(sender,))
    child.start()
    assert receiver.poll(30)
    from_child = receiver.recv()
    child.join(30)
    assert child.exitcode == 0
    from_parent = [random_uuid() for _ in range(3)]
    assert not set(from_child) & set(from_parent)
