"""`narrator voices install NAME`: a Piper voice downloaded from the rhasspy/piper-voices
layout into the voices folder, both of its files whole or none."""
from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from ..errors import NarratorError


class VoiceInstallError(NarratorError):
    """A voice cannot be downloaded or installed."""

    exit_code = 3  # engine or voice (see narrator.cli.EXIT_CODES)


_VOICE_NAME = re.compile(r"^(?P<family>[a-z]{2,3})_(?P<region>[A-Za-z0-9]+)-(?P<name>[A-Za-z0-9_]+)"
                         r"-(?P<quality>x_low|low|medium|high)$")
_DOWNLOAD_TIMEOUT_S = 60


def voice_urls(name: str, base_url: str) -> tuple[str, str]:
    """The .onnx and .onnx.json URLs of a voice in the rhasspy/piper-voices layout:
    {base}/{family}/{family}_{REGION}/{name}/{quality}/{family}_{REGION}-{name}-{quality}.onnx"""
    match = _VOICE_NAME.match(name)
    if not match:
        raise VoiceInstallError(f"{name!r} is not a Piper voice name (write it like "
                                f"en_US-lessac-medium: language_REGION-name-quality) nor a "
                                f"Kokoro one (like ff_siwis)")
    family, region = match["family"], match["region"]
    code = f"{family}_{region}"
    stem = f"{base_url.rstrip('/')}/{family}/{code}/{match['name']}/{match['quality']}/{name}"
    return f"{stem}.onnx", f"{stem}.onnx.json"


def _download(url: str, folder: Path, suffix: str) -> Path:
    request = urllib.request.Request(url, headers={"User-Agent": "narrator"})
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".download-", suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as out, \
                urllib.request.urlopen(request, timeout=_DOWNLOAD_TIMEOUT_S) as answer:
            expected = answer.headers.get("Content-Length")
            shutil.copyfileobj(answer, out, 1024 * 1024)
            written = out.tell()
        if expected is not None and int(expected) != written:
            raise VoiceInstallError(f"download of {url} stopped after {written} of "
                                    f"{expected} bytes")
        return Path(tmp)
    except urllib.error.HTTPError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise VoiceInstallError(f"cannot download {url}: HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        Path(tmp).unlink(missing_ok=True)
        raise VoiceInstallError(f"cannot download {url}: {getattr(exc, 'reason', exc)}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def install_voice(name: str, folder: Path, base_url: str, *, force: bool = False) -> Path:
    """Download voice `name` into `folder`; returns its .onnx path. Both files are downloaded
    to temporary files first and renamed only once both are whole, the model last, so the
    folder never holds half a voice."""
    model_url, config_url = voice_urls(name, base_url)
    model = folder / f"{name}.onnx"
    config = folder / f"{name}.onnx.json"
    if model.is_file() and config.is_file() and not force:
        return model
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise VoiceInstallError(f"cannot create voices folder {folder}: {exc}") from None
    tmp_config = _download(config_url, folder, ".onnx.json")
    try:
        try:
            data = json.loads(tmp_config.read_text(encoding="utf-8"))
            sample_rate = int(data["audio"]["sample_rate"])
        except (ValueError, KeyError, TypeError):
            raise VoiceInstallError(f"{config_url} is not a Piper voice config") from None
        if sample_rate <= 0:
            raise VoiceInstallError(f"{config_url} is not a Piper voice config")
        tmp_model = _download(model_url, folder, ".onnx")
        try:
            if tmp_model.stat().st_size < 1024:
                raise VoiceInstallError(f"{model_url} is too small to be a voice model")
            os.replace(tmp_config, config)
            os.replace(tmp_model, model)
        finally:
            tmp_model.unlink(missing_ok=True)
    finally:
        tmp_config.unlink(missing_ok=True)
    return model
