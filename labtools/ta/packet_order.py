"""The packet's order and labels: one seeded shuffle of the students, anonymous labels ``S-01``...

The seed is recorded in the packet, the sheet and the key, so the same seed on the same batch
gives the same packet; :func:`shuffled_order` says why one order serves every question.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Sequence

from opsmodel._validation import InvalidInputError, check_int

__all__ = ["MAX_SEED", "draw_seed", "shuffled_order", "anonymous_labels"]

#: Largest seed accepted (and drawn): short enough to read aloud, type and note down.
MAX_SEED = 2**31 - 1
_DEFAULT_SEED_BELOW = 1_000_000


def draw_seed() -> int:
    """A fresh seed for a packet made without one: below a million, easy to note down."""
    return secrets.randbelow(_DEFAULT_SEED_BELOW)


def shuffled_order(keys: Sequence[str], seed: int) -> tuple[str, ...]:
    """The packet's order of ``keys``: a shuffle seeded with ``seed``, never the roster's.

    Parameters
    ----------
    keys : sequence of str
        The students' keys, in any order, no repeats.
    seed : int in [0, 2**31 - 1]
        The seed (recorded in the packet, the sheet and the key).

    Returns
    -------
    tuple of str
        The keys in packet order.

    Raises
    ------
    InvalidInputError
        If ``seed`` is not a whole number in range, or a key repeats.

    Notes
    -----
    The keys are sorted first, so the order depends on the seed and the set of students
    only, not on how the folder was listed: the same seed on the same batch gives the same
    packet. The shuffle is :meth:`random.Random.shuffle` (Fisher-Yates over the Mersenne
    Twister seeded with ``seed``). Should it return the sorted roster itself (probability
    1/n!, certain for n = 1), it shuffles again from the same generator, so the order never
    follows the roster when there are two students or more.

    One order serves every question, on purpose: the labels then run S-01, S-02, ... in
    every question's section and down the sheet, so the TA fills the sheet row by row
    without looking anything up, which is where transcription slips happen. The order is
    random with respect to the roster (alphabetical or by submission time), which is what
    removes the systematic part of position effects; a course that wants positions to vary
    across questions too can give each question to a different TA or make a second packet
    with another seed.

    Examples
    --------
    >>> order = shuffled_order(["ann", "bob", "cy", "dee"], 7)
    >>> order == shuffled_order(["dee", "cy", "bob", "ann"], 7)  # listing order does not matter
    True
    >>> order == ("ann", "bob", "cy", "dee")  # never the roster's
    False
    """
    seed = check_int("seed", seed, low=0, high=MAX_SEED)
    roster = sorted(keys)
    if len(set(roster)) != len(roster):
        repeated = sorted({k for k in roster if roster.count(k) > 1})
        raise InvalidInputError(f"keys must not repeat, got {', '.join(repeated)} twice")
    order = list(roster)
    rng = random.Random(seed)
    rng.shuffle(order)
    while len(order) > 1 and order == roster:
        rng.shuffle(order)
    return tuple(order)


def anonymous_labels(n: int) -> tuple[str, ...]:
    """Labels ``S-01`` ... for ``n`` students (zero-padded to at least two digits).

    Examples
    --------
    >>> anonymous_labels(3)
    ('S-01', 'S-02', 'S-03')
    >>> anonymous_labels(120)[-1]
    'S-120'
    """
    n = check_int("n", n, low=0)
    width = max(2, len(str(n)))
    return tuple(f"S-{k:0{width}d}" for k in range(1, n + 1))
