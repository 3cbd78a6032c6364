"""Text from outside the desk's code (the venue's market questions and outcomes, a session file,
a news feed, an operator's names and notes, error messages) made literal wherever it is drawn,
so it shows as written and never becomes markup, a link, an image, a style or a script.

Each place text is drawn has its own grammar, and so its own escape (pure: no streamlit):
- `markdown`: Streamlit draws labels, captions, alerts and the cells of st.table as Markdown
  (images, links, headings, LaTeX, colours, icons); every ASCII punctuation mark is
  backslash-escaped, which CommonMark reads as the mark itself;
- `code_span`: an id written as code inside Markdown (a Kalshi ticker, a condition id): a code
  span reads no escapes (a `markdown`-escaped ticker showed its backslashes), so it is
  fenced instead, by more backticks than any run inside it;
- `plotly`: titles, legends and hover labels are plotly's pseudo-HTML (`<b>`, `<a href>`,
  `<br>`, entities); `<`, `>` and `&` become entities, which plotly shows as the characters;
- `css_string`: the hover box of a cut table cell is a CSS `content: "…"` string inside a
  `<style>` element; everything but letters, digits, spaces and harmless punctuation is a CSS
  hex escape, so the text can neither end the string (`"`) nor the element (`</style>`);
- HTML itself: the standard library's `html.escape`.
"""

from __future__ import annotations

import html
import re
import string

_MARKDOWN_MARKS = re.compile("([" + re.escape(string.punctuation) + "])")
_CSS_KEPT = frozenset(" .,:;?!()+-_/%'")


def markdown(text: object) -> str:
    """`text` as Streamlit's Markdown shows it literally (line breaks kept as spaces: a
    question on two lines is one line in a label)."""
    return _MARKDOWN_MARKS.sub(r"\\\1", " ".join(str(text).splitlines()))


def code_span(text: object) -> str:
    """`text` as a Markdown code span, shown exactly as written."""
    words = " ".join(str(text).splitlines())
    fence = "`" * (max((len(run) for run in re.findall("`+", words)), default=0) + 1)
    pad = " " if words[:1] == "`" or words[-1:] == "`" else ""  # CommonMark strips one space each side
    return f"{fence}{pad}{words}{pad}{fence}"


def plotly(text: object) -> str:
    """`text` for a plotly title, legend entry or hover label (its pseudo-HTML)."""
    return html.escape(str(text), quote=False)


def css_string(text: object) -> str:
    """`text` as the inside of a double-quoted CSS string."""
    return "".join(c if c.isalnum() or c in _CSS_KEPT else f"\\{ord(c):06x}" for c in str(text))
