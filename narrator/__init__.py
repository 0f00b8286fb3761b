"""narrator: turn published articles into narrated, chaptered audio.

    from narrator import narrate
    narration = narrate("samples/mel-resilience.html", "mel.mp3", engine="espeak")

The public API is `narrate`, `extract_article`, `extract_text` and `list_voices` (see
narrator/api.py), the values they return (`Narration`, `Article`, `VoiceInfo`) and
`NarratorError`, the base of every error a caller can act on.
"""

from .version import __version__
from .api import extract_article, extract_text, list_voices, narrate  # noqa: E402
from .engines.base import VoiceInfo  # noqa: E402
from .errors import NarratorError  # noqa: E402
from .model import Article, Narration  # noqa: E402

__all__ = ["narrate", "extract_article", "extract_text", "list_voices", "Narration", "Article",
           "VoiceInfo", "NarratorError", "__version__"]
