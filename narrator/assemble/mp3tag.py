"""The Info/LAME tag frame: the first frame of a CBR MP3, telling decoders how many frames
follow and how many samples of codec delay and padding to drop (the "gapless" fields).

Written by narrator rather than by LAME because LAME writes it only when the stream's own
bitrate makes a frame big enough to hold it (64 kbit/s and up at 22.05 kHz); this frame can
use a larger bitrate than the stream, as ffmpeg's muxer does. Layout: the LAME tag
specification, revision 1 (Gabriel Bouvigne, mp3-tech.org).
"""
from __future__ import annotations

import struct

# (MPEG version bits, samples per frame, side-info bytes for mono, bitrates by index)
_MPEG1 = (0b11, 1152, 17, (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320))
_MPEG2 = (0b10, 576, 9, (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160))
_RATES = {44100: (_MPEG1, 0), 48000: (_MPEG1, 1), 32000: (_MPEG1, 2),
          22050: (_MPEG2, 0), 24000: (_MPEG2, 1), 16000: (_MPEG2, 2)}
_XING_FIELDS = 4 + 4 + 4 + 4 + 100 + 4  # "Info", flags, frames, bytes, TOC, quality
_LAME_EXTENSION = 36


def bitrates(rate: int) -> tuple[int, ...]:
    """The CBR bitrates (kbit/s) an MP3 at `rate` can use."""
    if rate not in _RATES:
        raise ValueError(f"MP3 has no sample rate {rate} Hz")
    return _RATES[rate][0][3][1:]


def samples_per_frame(rate: int) -> int:
    return _RATES[rate][0][1]


def _frame_bytes(rate: int, kbps: int) -> int:
    return samples_per_frame(rate) // 8 * kbps * 1000 // rate


def _header_size(rate: int) -> int:
    return 4 + _RATES[rate][0][2] + _XING_FIELDS + _LAME_EXTENSION


def _tag_kbps(rate: int, stream_kbps: int) -> int:
    """The tag frame's bitrate: the stream's when that frame is big enough, else the first
    that is (as ffmpeg's muxer does)."""
    for kbps in (stream_kbps, *bitrates(rate)):
        if _frame_bytes(rate, kbps) >= _header_size(rate):
            return kbps
    raise ValueError(f"no MP3 frame at {rate} Hz holds a LAME tag")


def tag_frame_size(rate: int, stream_kbps: int) -> int:
    """Bytes of the tag frame."""
    return _frame_bytes(rate, _tag_kbps(rate, stream_kbps))


def _crc16(data: bytes) -> int:
    """CRC-16/ARC, the LAME tag's checksum."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def tag_frame(*, rate: int, stream_kbps: int, frames: int, stream_bytes: int,
              encoder_delay: int, padding: int, quality: int, lowpass_hz: int = 0) -> bytes:
    """The frame; `frames` and `stream_bytes` count the audio frames after it, the tag
    frame itself excluded from `frames` and included in `stream_bytes`."""
    (version, _, side_info, table), rate_index = _RATES[rate]
    kbps = _tag_kbps(rate, stream_kbps)
    size = _frame_bytes(rate, kbps)
    header = bytes([0xFF, 0xE0 | version << 3 | 0b01 << 1 | 1,  # layer III, no CRC
                    table.index(kbps) << 4 | rate_index << 2,
                    0b11 << 6 | 0b0100])  # mono, original
    toc = bytes(min(255, i * 256 // 100) for i in range(100))
    xing = (b"Info" + struct.pack(">III", 0x0F, frames, stream_bytes) + toc
            + struct.pack(">I", max(0, 100 - 10 * quality)))
    delay, pad = min(encoder_delay, 0xFFF), min(max(padding, 0), 0xFFF)
    lame = (b"LAME3.100" + bytes([0x01, min(255, lowpass_hz // 100)]) + bytes(8)
            + bytes([0x00, min(255, stream_kbps)])
            + bytes([delay >> 4, (delay & 0x0F) << 4 | pad >> 8, pad & 0xFF])
            + bytes([0x00, 0x00]) + bytes(2) + struct.pack(">I", stream_bytes) + bytes(2))
    frame = header + bytes(side_info) + xing + lame
    frame += struct.pack(">H", _crc16(frame))  # of every byte before it
    return frame + bytes(size - len(frame))
