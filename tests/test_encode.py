"""The in-process MP3 encoder: exact length (LAME tag), both threading modes, failures."""
from __future__ import annotations

import numpy as np
import pytest

from audio_checks import decode_errors, decoded_duration
from narrator.assemble.encode import Mp3Encoder
from narrator.assemble.lame import version
from narrator.errors import AudioError, InputError

RATE = 22050


def tone(seconds: float) -> bytes:
    t = np.arange(int(RATE * seconds)) / RATE
    return (np.sin(2 * np.pi * 440 * t) * 8000).astype("<i2").tobytes()


@pytest.mark.parametrize("background", [False, True])
def test_decoded_length_is_the_input_length(tmp_path, background):
    # Without the LAME tag frame a decoder keeps the codec's delay and padding: ~50-75 ms more.
    out = tmp_path / "a.mp3"
    encoder = Mp3Encoder(out, RATE, 64, background=background)
    pieces = [tone(s) for s in (0.37, 1.0, 0.013, 2.5)]
    for pcm in pieces:
        encoder.write(pcm)
    encoder.finish()
    samples = sum(len(p) for p in pieces) // 2
    assert decode_errors(out) == ""
    assert decoded_duration(out) == pytest.approx(samples / RATE, abs=0.002)
    head = out.read_bytes()[:400]
    assert head[:2] == b"\xff\xf3" and b"Info" in head and b"LAME" in head


@pytest.mark.parametrize("kbps", [24, 48, 160])
def test_exact_length_at_bitrates_whose_frames_cannot_hold_the_tag(tmp_path, kbps):
    out = tmp_path / "a.mp3"
    encoder = Mp3Encoder(out, RATE, kbps)
    encoder.write(tone(1.2345))
    encoder.finish()
    assert decode_errors(out) == ""
    assert decoded_duration(out) == pytest.approx(1.2345, abs=0.002)


def test_bitrate_is_honoured(tmp_path):
    sizes = {}
    for kbps in (32, 96):
        out = tmp_path / f"{kbps}.mp3"
        encoder = Mp3Encoder(out, RATE, kbps)
        encoder.write(tone(10))
        encoder.finish()
        sizes[kbps] = out.stat().st_size
    assert sizes[96] / sizes[32] == pytest.approx(3, rel=0.05)


def test_a_failure_in_the_encoder_thread_reaches_the_caller(tmp_path, monkeypatch):
    encoder = Mp3Encoder(tmp_path / "a.mp3", RATE, 64, background=True)

    def broken(pcm):
        raise AudioError("LAME failed to encode (error -1)")

    monkeypatch.setattr(encoder._lame, "encode", broken)
    encoder.write(tone(0.1))
    with pytest.raises(AudioError, match="LAME failed"):
        for _ in range(100):  # the error shows at a later write or at finish
            encoder.write(tone(0.1))
        encoder.finish()
    encoder.abort()  # idempotent after the failure


def test_the_encoder_thread_starts_at_the_first_write_and_stops_at_the_first_error(tmp_path,
                                                                                 monkeypatch):
    import threading

    encoder = Mp3Encoder(tmp_path / "a.mp3", RATE, 64, background=True)
    # Nothing runs yet: the synthesis stage may fork its workers before the first audio.
    assert not any(t.name == "mp3-encoder" for t in threading.enumerate())
    calls = []

    def broken(pcm):
        calls.append(len(pcm))
        raise AudioError("LAME failed to encode (error -1)")

    monkeypatch.setattr(encoder._lame, "encode", broken)
    encoder.write(tone(0.1))
    assert any(t.name == "mp3-encoder" for t in threading.enumerate())
    with pytest.raises(AudioError):
        for _ in range(100):
            encoder.write(tone(0.1))
        encoder.finish()
    encoder.abort()
    assert len(calls) == 1  # after the error, the queued audio was not encoded


def test_a_bitrate_mp3_does_not_have_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="must be one of 8, 16, .*, 160 kbit/s .*not 192"):
        Mp3Encoder(tmp_path / "a.mp3", 22050, 192)


def test_the_encoder_library_answers():
    assert version()[0].isdigit()


@pytest.mark.parametrize("background", [False, True])
def test_a_write_error_is_an_audio_error(tmp_path, monkeypatch, background):
    encoder = Mp3Encoder(tmp_path / "a.mp3", RATE, 64, background=background)

    class FullDisk:
        closed = False

        def write(self, data):
            raise OSError(28, "No space left on device")

        def close(self):
            self.closed = True

    monkeypatch.setattr(encoder, "_file", FullDisk())
    with pytest.raises(AudioError, match="No space left on device"):
        for _ in range(100):
            encoder.write(tone(0.1))
        encoder.finish()
    encoder.abort()
