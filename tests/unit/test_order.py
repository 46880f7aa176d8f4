"""The order of a project's threads: ``ids.CreationOrder``, strict within a container, by millisecond across."""

from __future__ import annotations

import threading

from threads_api.domain import ids

MS = 1_700_000_000_000


def test_keys_of_one_millisecond_strictly_increase_in_the_order_they_are_made() -> None:
    order = ids.CreationOrder()
    keys = [order.next_key(MS) for _ in range(1000)]
    assert keys == sorted(keys)
    assert len(set(keys)) == 1000
    assert all(key.startswith(f"{MS:012x}") for key in keys)
    assert order.next_key(MS + 1) > keys[-1]


def test_a_clock_that_steps_back_still_gives_later_keys() -> None:
    order = ids.CreationOrder()
    first = order.next_key(MS)
    assert first < order.next_key(MS - 5_000) < order.next_key(MS - 1) < order.next_key(MS + 1)


def test_a_spent_sequence_borrows_the_next_millisecond() -> None:
    order = ids.CreationOrder()
    order.next_key(MS)
    order._seq = order._SEQ_LIMIT - 1  # as if 2**32 threads had been made in this millisecond
    last = order.next_key(MS)
    assert last.startswith(f"{MS + 1:012x}{0:08x}")
    assert len(last) == 28


def test_keys_made_on_concurrent_threads_each_take_a_sequence_number_of_their_own() -> None:
    order = ids.CreationOrder()
    made: list[list[str]] = [[] for _ in range(4)]

    def make(mine: list[str]) -> None:
        for _ in range(500):
            mine.append(order.next_key(MS))

    workers = [threading.Thread(target=make, args=(mine,)) for mine in made]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert all(mine == sorted(mine) for mine in made)
    assert len({key[:20] for mine in made for key in mine}) == 2000  # (millisecond, sequence): never shared


def test_containers_are_ordered_by_millisecond_and_never_collide() -> None:
    a, b = ids.CreationOrder(), ids.CreationOrder()
    same = {a.next_key(MS) for _ in range(50)} | {b.next_key(MS) for _ in range(50)}
    assert len(same) == 100  # the same millisecond and sequence numbers, told apart by the random tail
    assert b.next_key(MS + 1) > max(same)
    assert a.next_key(MS + 2) > b.next_key(MS + 1)
