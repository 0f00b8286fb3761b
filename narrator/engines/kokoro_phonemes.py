"""Kokoro's phonemes, made by espeak-ng through phonemizer, without espeak-ng's
language-switch marks: espeak-ng marks the words it reads in another language
("(en)wˈiːkˈɛnd(fr)" for "week-end"), kokoro-onnx keeps the marks, and the model pronounces
them. phonemizer's `language_switch="remove-flags"` keeps the phonemes and drops the marks.

kokoro-onnx and phonemizer load the library they are given and never unload it: they get a
private copy of it, so narrator's espeak engine, which reloads its own before every utterance
(espeak.py), keeps the same sound whatever Kokoro did in the process.
"""
from __future__ import annotations

import logging
import shutil
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

_QUIET = logging.getLogger("narrator.kokoro.phonemizer")
_QUIET.setLevel(logging.ERROR)  # phonemizer warns about every language switch it removes


@contextmanager
def espeak_copy():
    """(a private copy of libespeak-ng, its data folder, a scratch folder), removed after.
    A copy is another library to the loader (espeakng-loader's own file stays unpinned);
    once loaded, its file can go."""
    import espeakng_loader
    folder = Path(tempfile.mkdtemp(prefix="narrator-kokoro-"))
    try:
        library = shutil.copy(espeakng_loader.get_library_path(), folder)
        yield library, espeakng_loader.get_data_path(), folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def phonemize(kokoro, text: str, espeak_language: str, backends: dict) -> str:
    """Kokoro's phonemes for `text`, without espeak-ng's language-switch marks; `backends`
    holds this process's phonemizer backends by language."""
    from kokoro_onnx.tokenizer import _espeak_lock
    from phonemizer.separator import default_separator

    if not text.strip():
        return ""
    with _espeak_lock:  # espeak-ng's state is process-wide
        if espeak_language not in backends:
            backends[espeak_language] = _backend(espeak_language)
        phonemes = backends[espeak_language].phonemize([text.strip()],
                                                       separator=default_separator)[0]
    vocab = kokoro.tokenizer.vocab
    return " ".join("".join(p for p in phonemes if p in vocab).split())


def _backend(espeak_language: str):
    """phonemizer's espeak-ng backend for a language, on a private copy of the library.

    phonemizer copies the library again into temporary folders that it removes only when a
    backend is collected or at interpreter exit, which a killed process never reaches (a
    batch or a server kills a narration that overruns its limit): they go once loaded."""
    from phonemizer.backend import EspeakBackend
    from phonemizer.backend.espeak.wrapper import EspeakWrapper

    with espeak_copy() as (library, data, _folder):
        EspeakWrapper.set_library(library)
        EspeakWrapper.set_data_path(data)
        backend = EspeakBackend(espeak_language, preserve_punctuation=True, with_stress=True,
                                language_switch="remove-flags", logger=_QUIET)
    if sys.platform != "win32":  # a loaded DLL's file cannot be removed on Windows
        _remove_library_copies_now()
    return backend


def _remove_library_copies_now() -> None:
    """Remove phonemizer's copies of the library (its backend's, and the one it made to ask
    the version) now that they are loaded, and the exit handlers that would remove them again
    (and print a traceback for a folder they cannot find)."""
    import weakref
    from phonemizer.backend.espeak.api import EspeakAPI

    for finalizer, info in list(getattr(weakref.finalize, "_registry", {}).items()):
        if getattr(info, "func", None) is EspeakAPI._delete and len(info.args) == 2:
            shutil.rmtree(info.args[1], ignore_errors=True)
            finalizer.detach()
