"""Checks that every relative link and image of the report pages names a file written beside them."""

from __future__ import annotations

import re
from pathlib import Path

LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def assert_links_resolve(folder: Path) -> None:
    """Every Markdown link or image target in folder/*.md that is not a URL exists in folder."""
    pages = sorted(folder.glob("*.md"))
    assert pages, folder
    for page in pages:
        for target in LINK.findall(page.read_text(encoding="utf-8")):
            if target.startswith(("http://", "https://", "data:")):
                continue
            assert (folder / target.split("#")[0]).is_file(), f"{page.name} links {target}"
