"""Signs and directions in words: a negative figure before "lower" or "higher" reads as a double
negative ("-33 % lower MFU"), so figures are turned to their positive side and the word flipped,
and a checker finds any such phrase left in a text."""

from __future__ import annotations

import re

from assets.report.findings import fmt

#: Direction words and their opposites.
OPPOSITE = {
    "lower": "higher",
    "higher": "lower",
    "less": "more",
    "more": "less",
    "fewer": "more",
    "smaller": "larger",
    "larger": "smaller",
    "cheaper": "dearer",
    "dearer": "cheaper",
    "faster": "slower",
    "slower": "faster",
    "below": "above",
    "above": "below",
}
_WORDS = "|".join(OPPOSITE)
_NUMBER = r"\d[\d,]*(?:\.\d+)?"
#: A negative number (or a range starting or ending with one) followed by a direction word.
DOUBLE_NEGATIVE = re.compile(
    rf"(?<![\w.)])-{_NUMBER}\s*(?:%|x)?"
    rf"(?:\s*(?:to|-)\s*-?{_NUMBER}\s*(?:%|x)?)?\s+(?:{_WORDS})\b"
    rf"|(?<![\w.)]){_NUMBER}\s*(?:%|x)?\s*to\s+-{_NUMBER}\s*(?:%|x)?\s+(?:{_WORDS})\b",
    re.IGNORECASE,
)


def directional(value: float, unit: str) -> str:
    """``value unit`` where the unit starts with a direction ("% lower MFU ..."): a negative value
    is shown positive with the opposite word ("33.2 % higher MFU ...")."""
    text = unit.strip()
    value = value + 0.0  # negative zero reads as "0", never "-0"
    match = re.match(rf"^(%\s*|x\s*)?({_WORDS})\b", text, re.IGNORECASE)
    if value < 0 and match:
        word = match.group(2)
        flipped = OPPOSITE[word.lower()]
        text = text[: match.start(2)] + flipped + text[match.end(2) :]
        value = -value
    sep = "" if text.startswith("%") else " "
    return f"{fmt(value)}{sep}{text}".strip()


def directional_range(low: float, high: float, word: str) -> str:
    """A range of signed figures in one direction, in words: both ends positive in ``word``
    ("5-20 % lower"), both negative in its opposite, or "from 5 % higher to 20 % lower"."""
    # negative zero (given, or made by flipping a 0) reads as "0", never "-0"
    low, high = low + 0.0, high + 0.0
    flipped_low, flipped_high = -low + 0.0, -high + 0.0
    if low >= 0 and high >= 0:
        return f"{fmt(low)}-{fmt(high)}% {word}"
    if low <= 0 and high <= 0:
        return f"{fmt(flipped_high)}-{fmt(flipped_low)}% {OPPOSITE[word]}"
    return f"from {fmt(flipped_low)}% {OPPOSITE[word]} to {fmt(high)}% {word}"


def wording_problems(text: str) -> list[str]:
    """Every double negative ("-33 % lower", "-5 to 20 % lower") in a text."""
    return [m.group(0) for m in DOUBLE_NEGATIVE.finditer(text or "")]
