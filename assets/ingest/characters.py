"""Characters a source cell may not hold, each named: NULs, control characters, byte-order marks,
zero-width and bidirectional marks anywhere; letters that only look like ASCII in identifiers."""

from __future__ import annotations

import re
import unicodedata

_INVISIBLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff\ufff9-\ufffb]"
)
_ZERO_WIDTH = {"\u200b", "\u200c", "\u200d", "\u2060", "\u00ad"}
_BIDI = set("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")

#: Cyrillic and Greek letters drawn like Latin ones (the common confusables).
_CONFUSABLE = dict(
    zip(
        "АВЕКМНОРСТХаеорсхуіјѕІЈЅԁһԛԝΑΒΕΖΗΙΚΜΝΟΡΤΥΧορνκ",
        "ABEKMHOPCTXaeopcxyijsIJSdhqwABEZHIKMNOPTYXopvk",
        strict=True,
    )
)


def describe(ch: str) -> str:
    """``U+XXXX NAME`` of one character."""
    return f"U+{ord(ch):04X} {unicodedata.name(ch, 'unnamed character')}"


def _invisible_reason(ch: str) -> str:
    if ch == "\x00":
        return "contains a NUL byte (U+0000); the file is probably binary or UTF-16"
    if ch == "\ufeff":
        return "contains a byte-order mark (U+FEFF) inside the file; only one at the very start is allowed"
    if ch in _ZERO_WIDTH:
        return f"contains an invisible zero-width character ({describe(ch)})"
    if ch in _BIDI:
        return f"contains an invisible bidirectional-text control ({describe(ch)})"
    name = unicodedata.name(ch, "")
    return f"contains a control character (U+{ord(ch):04X}{' ' + name if name else ''})"


def strip_invisible(text: str) -> str:
    """The text without the characters :func:`invisible_problem` names (for showing a name)."""
    return _INVISIBLE.sub("", text)


def invisible_problem(text: str) -> str | None:
    """The reason a cell holds a character no source may hold, or None."""
    m = _INVISIBLE.search(text)
    return _invisible_reason(m.group()) if m else None


def lookalike(ch: str) -> str | None:
    """The ASCII character a non-ASCII one is easily mistaken for, or None."""
    if ch.isascii():
        return None
    if ch in _CONFUSABLE:
        return _CONFUSABLE[ch]
    folded = unicodedata.normalize("NFKC", ch)
    if folded.isascii() and folded.strip():
        return folded
    category = unicodedata.category(ch)
    if category == "Zs":
        return " "
    if category == "Pd":
        return "-"
    if category == "Nd":
        return str(unicodedata.digit(ch, ""))
    return None


def lookalike_problem(text: str) -> str | None:
    """The reason an identifier, code, number or date holds a character that only looks like
    ASCII (fullwidth, Cyrillic or Greek letters, non-ASCII spaces, dashes or digits), or None."""
    for ch in text:
        looks = lookalike(ch)
        if looks is not None:
            return f"contains {describe(ch)}, which looks like '{looks}'; type the ASCII character"
    return None
