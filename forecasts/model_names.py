"""One matching key per model name across sources (price catalogs, score tables, aliases), kept
apart from the price index's statistics so the ingest of the score tables loads only this."""

from __future__ import annotations

import re

_DATE_SUFFIX = re.compile(r"(-\d{4}-\d{2}-\d{2}|-\d{8}|-\d{4}|@.*)$")
#: DeepSeek's ``-MMDD`` marks a new checkpoint with its own reported scores (V3 and V3-0324, R1
#: and R1-0528), not a snapshot date of one model, so it stays in the key.
_DATE_SUFFIX_DEEPSEEK = re.compile(r"(-\d{4}-\d{2}-\d{2}|-\d{8}|@.*)$")
#: A preview is not the released model: ``-preview`` stays in the key, so a preview price meets
#: only a score reported for that preview.
_DROP_SUFFIX = re.compile(r"(-instruct|-it|-chat|-latest)$")
#: Vendor and host prefixes that are not part of the model's name.
_PREFIX = re.compile(r"^(meta-|amazon-|accounts-fireworks-models-)")
#: Claude 3 ids put the version first (claude-3-5-sonnet), Claude 4 and later the tier first
#: (claude-sonnet-4-5); both orders meet on tier first.
_CLAUDE_VERSION_FIRST = re.compile(r"^claude-(\d+(?:-\d+)?)-(opus|sonnet|haiku)(?=-|$)")
#: Fireworks writes a version's dot as ``p`` (llama-v3p1-70b, qwen2p5-72b).
_P_AS_DOT = re.compile(r"(?<=\d)p(?=\d)")
#: ``llama-v3``/``qwen-v2`` (Fireworks), ``llama3``/``gemma2`` (Groq, Cerebras): family, dash, version.
_FAMILY_VERSION = re.compile(r"^(llama|qwen)-v(?=\d)|^(llama|gemma)(?=\d)")
#: Qwen's own spelling joins family and version (Qwen2.5-72B); ``qwen-2.5-72b`` is the same model.
_QWEN_DASHED = re.compile(r"^qwen-(\d(?:-\d)?-)")


def model_key(name: str) -> str:
    """A matching key for one model name across sources: last path segment, lower case, dots as
    dashes, without a parenthetical, a vendor prefix, a date stamp or an -instruct/-chat/-latest
    suffix; Claude's two word orders, Fireworks' ``p`` for a dot and the family/version spellings
    of Llama, Gemma and Qwen meet on one form. A ``-preview`` suffix is kept."""
    key = str(name).strip().lower().split("/")[-1]
    key = re.sub(r"\s*\(.*\)\s*", "", key).replace(".", "-").replace("_", "-").replace(" ", "-")
    key = _PREFIX.sub("", key)
    key = _P_AS_DOT.sub("-", key)
    key = _FAMILY_VERSION.sub(lambda m: f"{m[1] or m[2]}-", key)
    key = _QWEN_DASHED.sub(r"qwen\1", key)
    dates = _DATE_SUFFIX_DEEPSEEK if key.startswith("deepseek-") else _DATE_SUFFIX
    for _ in range(3):
        key = _DROP_SUFFIX.sub("", dates.sub("", key))
    return _CLAUDE_VERSION_FIRST.sub(r"claude-\2-\1", key)
