"""Which language a resident wrote in: Welsh or English, for a landlord in Wales (``landlord.welsh``).

Lingua (``lingua-language-detector``) does the work: a maintained language identifier that ships its
models inside the package (nothing is fetched at run time) and knows Welsh. It is restricted to English
and Welsh, the only two answers that change what we do, and built in low-accuracy mode (trigram models
only): on this project's machine the first detection loads it in about 20 ms and 14 MB, where the
high-accuracy mode takes about 200 ms and 88 MB, and both agree on residents' sentences, short ones
included ("Mae'r boeler wedi torri eto", "Cwyn am y to").

Invariants: lingua is imported only when ``is_welsh`` is first called, and the pipeline calls it only
when the landlord switched Welsh on, so a landlord without Welsh never loads it and the worker starts as
fast as before. The text is never logged. Anything that is not clearly Welsh (too short, mixed, another
language) is English, the default.
"""

from __future__ import annotations

import re
from functools import lru_cache

MIN_LETTERS = 8  # fewer letters than this ("Diolch!", a reference alone) is not enough to say
WELSH_CONFIDENCE = 0.75  # lingua's relative confidence that the text is Welsh rather than English
SAMPLE_CHARS = 4000  # the start of a long letter says as much as all of it
_LETTERS = re.compile(r"[^\W\d_]", re.UNICODE)


def is_welsh(text: str | None) -> bool:
    """True when ``text`` reads as Welsh rather than English."""
    sample = (text or "")[:SAMPLE_CHARS]
    if len(_LETTERS.findall(sample)) < MIN_LETTERS:
        return False
    from lingua import Language

    return _detector().compute_language_confidence(sample, Language.WELSH) >= WELSH_CONFIDENCE


@lru_cache(maxsize=1)
def _detector():
    """Built once per process, on first use."""
    from lingua import Language, LanguageDetectorBuilder

    return LanguageDetectorBuilder.from_languages(Language.ENGLISH, Language.WELSH).with_low_accuracy_mode().build()
