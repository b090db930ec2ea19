"""Comparing two stated quantities.

Newsroom figures are hedged ("at least 22", "dozens", "nearly a million"), so
"is 33 different from 29?" is not ``!=``. Two precise statements compare by the
number written ("at least 22" → "at least 29" is a rise even though both
intervals are open-ended); a vague statement compares by the range it admits, so
"dozens" after "33" is a confirmation, not a drop.
"""

from __future__ import annotations

from enum import StrEnum

from bot.domain.claims import Quantity


class Relation(StrEnum):
    SAME = "same"
    """Consistent: equal numbers, or a vague range that admits the other value."""
    HIGHER = "higher"
    LOWER = "lower"


def relate(new: Quantity, old: Quantity) -> Relation:
    """How ``new`` stands to ``old``."""
    if new.is_vague or old.is_vague or new.high is not None or old.high is not None:
        new_lo, new_hi = new.interval()
        old_lo, old_hi = old.interval()
        if new_lo > old_hi:
            return Relation.HIGHER
        if new_hi < old_lo:
            return Relation.LOWER
        return Relation.SAME
    if new.value > old.value:
        return Relation.HIGHER
    if new.value < old.value:
        return Relation.LOWER
    return Relation.SAME


def consistent(a: Quantity, b: Quantity) -> bool:
    return relate(a, b) is Relation.SAME


def refines(a: Quantity, b: Quantity) -> bool:
    """True when precise ``a`` pins down vague ``b`` (33 after "dozens")."""
    return b.is_vague and not a.is_vague


def compatible(a: Quantity, b: Quantity) -> bool:
    """Can both statements hold at once? ("at least 22" and "29" can; "225" and "230" cannot.)

    Two reports conflict only when the ranges their qualifiers admit do not meet.
    """
    a_lo, a_hi = a.interval()
    b_lo, b_hi = b.interval()
    return a_lo <= b_hi and b_lo <= a_hi
