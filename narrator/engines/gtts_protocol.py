"""Google Translate's speech protocol, as gTTS speaks it: the batchexecute endpoint, the
request (built by gTTS's own code), the audio inside the answer, and its MP3 decoded to PCM.
Kept apart from the engine (gtts_engine.py), which owns splitting, rate limits and retries."""
from __future__ import annotations

import re

from ..model import Audio

RPC_PATH = "_/TranslateWebserverUi/data/batchexecute"
SAMPLE_RATE = 24000          # what Google sends; any MP3 is decoded to it


class Retryable(Exception):
    """One try failed in a way worth retrying; the message says how."""

    def __init__(self, message: str, retry_after: float | None = None,
                 connected: bool = True):
        super().__init__(message)
        self.retry_after = retry_after
        self.connected = connected       # False: no connection at all (refused, no such host)


def endpoint_url(url: str | None, tld: str) -> str:
    """The batchexecute URL for a base URL (None: Google's host for `tld`)."""
    if not url:
        import gtts.tts
        return gtts.tts._translate_url(tld=tld, path=RPC_PATH)
    url = url.replace("{tld}", tld)
    if url.rstrip("/").endswith("batchexecute"):
        return url
    return url.rstrip("/") + "/" + RPC_PATH


def prepared_request(text: str, lang: str, slow: bool, tld: str, url: str):
    """gTTS's own request for one part, sent to `url` instead of Google's host."""
    from gtts import gTTS

    tts = gTTS(text, tld=tld, lang=lang, slow=slow, lang_check=False,
               # narrator normalised the text and split it under the limit already: gTTS
               # must send it exactly as given.
               pre_processor_funcs=[], tokenizer_func=lambda t: [t])
    (request,) = tts._prepare_requests()
    request.prepare_url(url, None)
    return request


_AUDIO = re.compile(r'jQ1olc","\[\\"(.*)\\"]')   # gTTS's own pattern (gtts/tts.py)


def audio_from_answer(body: str) -> bytes:
    import base64

    for line in body.splitlines():
        if "jQ1olc" in line:
            match = _AUDIO.search(line)
            if match:
                try:
                    return base64.b64decode(match.group(1).encode("ascii"), validate=True)
                except ValueError:                   # binascii.Error, non-ASCII
                    raise Retryable("answer with corrupt audio") from None
    raise Retryable("answer without audio")


def retry_after_of(answer) -> float | None:
    try:
        return float(answer.headers.get("Retry-After", ""))
    except ValueError:
        return None


def decode_mp3(mp3: bytes) -> Audio:
    """One MP3 answer -> mono s16le PCM at 24 kHz (Google's rate), by the ffmpeg binary of
    imageio-ffmpeg (pydub's decoder would need ffprobe, which that package lacks). Each answer
    is a whole MP3 file, decoded on its own."""
    import subprocess

    import imageio_ffmpeg

    done = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-f", "mp3",
         "-i", "pipe:0", "-f", "s16le", "-ac", "1", "-ar", str(SAMPLE_RATE), "pipe:1"],
        input=mp3, capture_output=True)
    if done.returncode != 0:
        first = (done.stderr.decode("utf-8", "replace").strip().splitlines() or ["?"])[-1]
        raise Retryable(f"undecodable MP3 ({first[:80]})")
    if not done.stdout:
        raise Retryable("answer with empty audio")
    return Audio(pcm=done.stdout, sample_rate=SAMPLE_RATE)
