"""Keyed locks of the web server: one request at a time per key, in order of arrival, other keys meanwhile; a request
cancelled while waiting (or just as the key was handed to it) never keeps the key from the others."""

from __future__ import annotations

import asyncio

from bot.channels.web.locks import KeyedLocks


def test_one_request_at_a_time_per_key_in_order_and_other_keys_meanwhile() -> None:
    locks, events = KeyedLocks(), []

    async def request(key: str, name: str) -> None:
        async with locks.hold(key):
            events.append(f"{name} in")
            await asyncio.sleep(0.01)
            events.append(f"{name} out")

    async def main() -> None:
        await asyncio.gather(request("a", "1"), request("a", "2"), request("b", "3"), request("a", "4"))

    asyncio.run(main())
    assert events.index("3 in") < events.index("1 out")  # another key does not wait
    assert [event for event in events if event[0] != "3"] == ["1 in", "1 out", "2 in", "2 out", "4 in", "4 out"]
    assert len(locks) == 0  # nothing kept


def test_a_request_cancelled_while_waiting_or_as_it_gets_the_key_does_not_keep_it() -> None:
    locks, events, tasks = KeyedLocks(), [], {}

    async def request(name: str) -> None:
        async with locks.hold("a"):
            events.append(name)
            await asyncio.sleep(0.01)
        if name == "first":  # the key was just handed to "handed", which has not run yet: cancel it now
            tasks["handed"].cancel()

    async def main() -> None:
        for name in ("first", "waiting", "handed", "last"):
            tasks[name] = asyncio.create_task(request(name))
            await asyncio.sleep(0)
        tasks["waiting"].cancel()  # cancelled in line
        await asyncio.wait_for(asyncio.gather(*tasks.values(), return_exceptions=True), 5)  # never stuck
        assert tasks["waiting"].cancelled() and tasks["handed"].cancelled() and not tasks["last"].cancelled()

    asyncio.run(main())
    assert events == ["first", "last"] and len(locks) == 0
