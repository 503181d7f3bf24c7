"""The timing tests' harness: does a request about a known address answer later?

What is timed is what a client waits for: from the call into the application to the
last byte of the response body. Work done after that (a background task) is not
counted, as no client can see it; httpx's ASGI transport waits for that work before
it hands the response back, so a timer around `client.post` would count it.

Requests go in pairs, known-first and unknown-first in turn, so a change of the
machine's speed (another process, a frequency step) hits both sides alike. The
statistic is a sign test: in how many pairs was the known address answered later?
It needs no threshold in milliseconds, which no machine would share: on a busy CI
machine the answer itself takes a few milliseconds and varies by as much, while work
done before answering (a mail, a write) makes one side later in every pair. With no
difference the count is Binomial(20, 1/2), outside `ALIKE` with probability 0.0004;
a leak that stands out of the noise puts it there. Each pair uses fresh
addresses, so no per-address state (a mail quota, a throttle) changes between samples.

A verdict takes up to `ROUNDS` comparisons (`measured_until`): a comparison that
disagrees with what the test expects is measured again, on fresh addresses, and only
the last one counts. A leak puts every round out of `ALIKE`, and a harness that cannot
see one keeps every round in it; a stall of the machine (another process holding both
cores for half a second, seen on CI under load) falls on a few samples of one round.
Two rounds make a false alarm on a path without a leak about 1 in 6 million.
"""

import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass

import httpx
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tests.conftest import PUBLIC_URL

PAIRS = 20
# The first pairs warm caches up (statement cache, connection pool) and are not counted.
WARM_UP_PAIRS = 2
# How many of the `PAIRS` may have the known address answered later, if nothing leaks.
ALIKE = range(3, PAIRS - 2)
# Request numbers one comparison uses: see `rounds`.
NUMBERS_PER_ROUND = WARM_UP_PAIRS + PAIRS
# How many comparisons a verdict may take: see the module's notes.
ROUNDS = 2

Request = Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]]


class ResponseTimer:
    """Outermost ASGI wrapper: seconds from the call to the end of the response body.

    `answered` tells whether the request in flight has been answered: work that runs
    after that (and that a slow fake server may skip waiting for) is invisible to the
    client. The harness sends one request at a time.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.elapsed = 0.0
        self.answered = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the application, noting when its last body message has been sent."""
        started = time.perf_counter()
        self.answered = False

        async def timed_send(message: Message) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                self.elapsed = time.perf_counter() - started
                self.answered = True

        await self.app(scope, receive, timed_send)


@dataclass(frozen=True, slots=True)
class Comparison:
    """Paired response times, in seconds."""

    known: list[float]
    unknown: list[float]

    @property
    def known_later(self) -> int:
        """In how many pairs the known address was answered later."""
        return sum(k > u for k, u in zip(self.known, self.unknown, strict=True))


def alike(comparison: Comparison) -> bool:
    """Neither side was answered later in (nearly) every pair."""
    return comparison.known_later in ALIKE


def apart(comparison: Comparison) -> bool:
    """One side was answered later in (nearly) every pair."""
    return not alike(comparison)


def rounds() -> Iterator[range]:
    """The request numbers of each round a verdict may take, none used twice."""
    for first in range(0, ROUNDS * NUMBERS_PER_ROUND, NUMBERS_PER_ROUND):
        yield range(first, first + NUMBERS_PER_ROUND)


async def measured_until(
    expected: Callable[[Comparison], bool], measure: Callable[[range], Awaitable[Comparison]]
) -> list[Comparison]:
    """Comparisons on fresh request numbers, until one is as `expected` or `ROUNDS` are made.

    The test asserts on the last one; all of them go into its failure message.
    """
    comparisons: list[Comparison] = []
    for numbers in rounds():
        comparisons.append(await measure(numbers))
        if expected(comparisons[-1]):
            break
    return comparisons


async def compare(
    app: ASGIApp | ResponseTimer,
    known: Request,
    unknown: Request,
    numbers: range,
    *,
    status: int = 202,
) -> Comparison:
    """Time interleaved pairs of requests; the `n`th pair's requests get `numbers[n]`.

    The first `WARM_UP_PAIRS` are not counted. Every request must be answered with
    `status`. `app` may come wrapped in its timer already, for a fake server that asks
    it whether the request has been answered.
    """
    timer = app if isinstance(app, ResponseTimer) else ResponseTimer(app)
    samples: tuple[list[float], list[float]] = ([], [])
    transport = httpx.ASGITransport(app=timer)
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as client:
        for pair, number in enumerate(numbers):
            order = ((0, known), (1, unknown)) if pair % 2 else ((1, unknown), (0, known))
            for side, request in order:
                response = await request(client, number)
                assert response.status_code == status, response.text
                if pair >= WARM_UP_PAIRS:
                    samples[side].append(timer.elapsed)
    return Comparison(known=samples[0], unknown=samples[1])
