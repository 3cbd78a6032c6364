"""What the operator reads of an element AppTest holds as Markdown source: text from outside is
written with every ASCII punctuation mark backslash-escaped (charts/text.py), which the page
shows as the mark itself."""

from __future__ import annotations

import re
import string

_ESCAPED = re.compile(r"\\([" + re.escape(string.punctuation) + "])")


def as_read(source: str) -> str:
    return _ESCAPED.sub(r"\1", source)
