"""Text for the terminal: wrapped to its width (100 columns when stdout is not a terminal), never inside a word,
so an address, a domain or a URL stays whole and can be copied."""

from __future__ import annotations

import shutil
import sys
import textwrap

NOT_A_TERMINAL_WIDTH = 100


def width() -> int:
    if not sys.stdout.isatty():
        return NOT_A_TERMINAL_WIDTH
    return max(40, shutil.get_terminal_size((NOT_A_TERMINAL_WIDTH, 24)).columns)


def wrap(text: str, indent: str = "", more: str = "  ") -> str:
    """`text` wrapped; continuation lines indented by `indent` + `more`; long words are never broken."""
    return textwrap.fill(text, width(), initial_indent=indent, subsequent_indent=indent + more,
                         break_long_words=False, break_on_hyphens=False)
