"""`narrator voices install ff_siwis`: Kokoro voices taken from the npm package kokoro-js
1.2.1, whose tarball (27 MB) ships every Kokoro-82M voice as `package/voices/NAME.bin` (the
format kokoro_files.py reads). Each voice is checked against its SHA-256
(narrator/data/kokoro_voices.toml), so it is exactly the published one, from the registry or
a copy of the tarball elsewhere; several voices named at once share one download."""
from __future__ import annotations

import hashlib
import os
import tarfile
import tempfile
import tomllib
from importlib.resources import files
from pathlib import Path

from .kokoro_files import VOICE_BYTES, VOICE_NAME, voice_language
from .piper_install import VoiceInstallError, _download

DEFAULT_URL = "https://registry.npmjs.org/kokoro-js/-/kokoro-js-1.2.1.tgz"


def is_kokoro_voice(name: str) -> bool:
    """Whether `name` is shaped like a Kokoro voice's (ff_siwis), not a Piper voice's."""
    return VOICE_NAME.match(name) is not None


def published_voices() -> dict[str, str]:
    """Voice name -> SHA-256 of its file in kokoro-js 1.2.1."""
    return tomllib.loads((files("narrator.data") / "kokoro_voices.toml").read_text("utf-8"))


def install_voices(names: list[str], folder: Path, url: str | None = None, *,
                   force: bool = False) -> list[Path]:
    """Install Kokoro voices `names` into `folder` (each NAME.bin written whole and checked,
    or not at all); returns their paths. `url` defaults to NARRATOR_KOKORO_VOICES_URL, else
    kokoro-js's tarball on the npm registry."""
    published = published_voices()
    readable = sorted(v for v in published if voice_language(v))
    for name in names:
        if name not in published:
            raise VoiceInstallError(f"{name!r} is not a Kokoro voice; they are: "
                                    + ", ".join(readable))
        if not voice_language(name):
            raise VoiceInstallError(f"Kokoro voice {name!r} speaks a language narrator's "
                                    f"Kokoro engine does not read (Japanese and Chinese need "
                                    f"another phonemizer); the voices it reads: "
                                    + ", ".join(readable))
    targets = {name: folder / f"{name}.bin" for name in names}
    wanted = {n: p for n, p in targets.items() if force or not p.is_file()}
    if not wanted:
        return list(targets.values())
    url = url or os.environ.get("NARRATOR_KOKORO_VOICES_URL") or DEFAULT_URL
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise VoiceInstallError(f"cannot create voices folder {folder}: {exc}") from None
    tarball = _download(url, folder, ".tgz")
    try:
        _extract(tarball, url, wanted, published)
    finally:
        tarball.unlink(missing_ok=True)
    return list(targets.values())


def _extract(tarball: Path, url: str, wanted: dict[str, Path], published: dict) -> None:
    try:
        with tarfile.open(tarball, "r:gz") as archive:
            for name, path in wanted.items():
                try:
                    member = archive.getmember(f"package/voices/{name}.bin")
                except KeyError:
                    raise VoiceInstallError(f"{url} has no voice {name!r}") from None
                if not member.isfile() or member.size != VOICE_BYTES:
                    raise VoiceInstallError(f"{url}: {name}.bin is not a Kokoro voice file")
                data = archive.extractfile(member).read()
                if hashlib.sha256(data).hexdigest() != published[name]:
                    raise VoiceInstallError(f"{url}: {name}.bin is not the published voice "
                                            f"(SHA-256 mismatch)")
                fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".voice-", suffix=".bin")
                try:
                    with os.fdopen(fd, "wb") as out:
                        out.write(data)
                    os.chmod(tmp, 0o644)
                    os.replace(tmp, path)
                finally:
                    Path(tmp).unlink(missing_ok=True)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise VoiceInstallError(f"cannot read the voices of {url}: {exc}") from None
