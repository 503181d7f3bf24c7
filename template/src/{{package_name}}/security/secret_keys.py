"""A screen for secret keys a person typed rather than a generator made (pure).

`secret_key_looks_hand_made` refuses a key containing a placeholder word
(`PLACEHOLDER_WORDS`) and a key whose estimated entropy is below
`MIN_SECRET_KEY_ENTROPY_BITS`. The estimate takes the shortest unit the key repeats
(`changeme` for "changeme" * 4) and sums the Shannon information of its characters'
frequencies, and separately of the steps between neighbouring characters (an
alphabet `abcdef...` is one step repeated); the smaller sum counts. It is a screen
for hand-made keys, not a proof of randomness.
"""

import itertools
import math
from collections import Counter
from collections.abc import Sequence

MIN_SECRET_KEY_ENTROPY_BITS = 128
# Words of the values people put in examples and templates; six letters or more, so
# a random URL-safe key contains one with odds below one in a million.
PLACEHOLDER_WORDS = ("changeme", "replaceme", "placeholder", "example", "secret", "password")


def _shortest_period(text: str) -> int:
    """Length of the shortest unit whose repetition (the last copy maybe cut) is `text`."""
    border = [0] * len(text)  # Knuth-Morris-Pratt: longest proper prefix that is a suffix
    length = 0
    for index in range(1, len(text)):
        while length and text[index] != text[length]:
            length = border[length - 1]
        if text[index] == text[length]:
            length += 1
        border[index] = length
    return len(text) - (border[-1] if text else 0)


def _shannon_bits(symbols: Sequence[object]) -> float:
    """Length times the Shannon entropy of the symbols' frequencies."""
    total = len(symbols)
    return sum(count * math.log2(total / count) for count in Counter(symbols).values())


def estimated_entropy_bits(key: str) -> float:
    """Entropy estimate of `key`, in bits: low for repetitions, runs and small alphabets.

    The shortest unit the key repeats is measured twice, by the frequencies of its
    characters and of the steps between neighbours (`abcdef...` is all `+1`), and
    the smaller figure counts.
    """
    unit = key[: _shortest_period(key)]
    steps = [ord(after) - ord(before) for before, after in itertools.pairwise(unit)]
    return min(_shannon_bits(unit), _shannon_bits(steps))


def secret_key_looks_hand_made(key: str) -> bool:
    """Whether `key` holds a placeholder word or too little estimated entropy."""
    letters = "".join(character for character in key.lower() if character.isalnum())
    if any(word in letters for word in PLACEHOLDER_WORDS):
        return True
    return estimated_entropy_bits(key) < MIN_SECRET_KEY_ENTROPY_BITS
