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
    # $COLUMNS first, then the terminal's size; a terminal that reports 0 columns (a bare pty) gets the default
    return max(40, shutil.get_terminal_size((NOT_A_TERMINAL_WIDTH, 24)).columns or NOT_A_TERMINAL_WIDTH)


def height() -> int:
    """The terminal's rows; 24 when it reports none (tqdm draws nothing on a 0-row terminal)."""
    return shutil.get_terminal_size((NOT_A_TERMINAL_WIDTH, 24)).lines or 24


def wrap(text: str, indent: str = "", more: str = "  ") -> str:
    """`text` wrapped; continuation lines indented by `indent` + `more`; long words are never broken."""
    return textwrap.fill(text, width(), initial_indent=indent, subsequent_indent=indent + more,
                         break_long_words=False, break_on_hyphens=False)
