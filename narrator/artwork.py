"""Podcast artwork that shows the feed's title: a square PNG (1400 px, Apple's minimum; at
most 3000) with the title in large type over a colour chosen from the title, so two feeds
look different in a podcast app.

Drawing text needs a font rasteriser: Pillow (with FreeType, in its wheels). The type is the
system's DejaVu Sans Bold when it is installed (it covers Latin, Greek and Cyrillic), else
the font Pillow carries. The same title gives the same bytes. narrator marks the files it
makes (a PNG text chunk), so it regenerates its own artwork when the title changes and never
touches one the publisher put there.
"""
from __future__ import annotations

import hashlib
import io
import zlib
from functools import lru_cache
from pathlib import Path

SIZE = 1400
MARK = "narrator-artwork"
# Dark tones white type reads well on (contrast over 7:1).
PALETTE = [(0x1F, 0x3A, 0x5F), (0x5B, 0x1A, 0x2E), (0x1E, 0x4D, 0x3B), (0x3D, 0x2C, 0x5E),
           (0x6A, 0x2C, 0x12), (0x15, 0x4B, 0x5C), (0x3A, 0x3A, 0x3A), (0x4A, 0x1D, 0x5A)]
FONT_FILES = ("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
              "/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf",
              "/usr/local/share/fonts/DejaVuSans-Bold.ttf",
              "/Library/Fonts/Arial Bold.ttf", "C:/Windows/Fonts/arialbd.ttf")


@lru_cache(maxsize=32)
def _font(size: int):
    from PIL import ImageFont

    for path in FONT_FILES:
        if Path(path).is_file():
            return ImageFont.truetype(path, size)
    return ImageFont.load_default(size=size)


def _wrap(draw, text: str, font, width: int) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        trial = f"{line} {word}".strip()
        if draw.textlength(trial, font=font) <= width or not line:
            line = trial
        else:
            lines.append(line)
            line = word
    if line:
        lines.append(line)
    return lines


def _fit(draw, text: str, width: int, height: int) -> tuple[object, list[str], int]:
    """The largest type (from 180 px down) whose wrapped lines fit the box."""
    for px in range(180, 40, -8):
        font = _font(px)
        lines = _wrap(draw, text, font, width)
        step = int(px * 1.18)
        if (len(lines) * step <= height
                and all(draw.textlength(line, font=font) <= width for line in lines)):
            return font, lines, step
    font = _font(40)
    step = int(40 * 1.18)
    lines = _wrap(draw, text, font, width)[: height // step]
    return font, lines, step


def title_artwork(title: str, subtitle: str = "", size: int = SIZE) -> bytes:
    """A size x size PNG showing `title` (and a smaller `subtitle` at the foot)."""
    from PIL import Image, ImageDraw
    from PIL.PngImagePlugin import PngInfo

    if not 1400 <= size <= 3000:
        raise ValueError("podcast artwork is 1400 to 3000 px square")
    title = " ".join(title.split()) or "Narrated articles"
    colour = PALETTE[int(hashlib.sha256(title.encode("utf-8")).hexdigest(), 16) % len(PALETTE)]
    image = Image.new("RGB", (size, size), colour)
    draw = ImageDraw.Draw(image)
    unit = size / SIZE
    margin = int(130 * unit)
    # A quiet waveform: what the feed is, without words.
    bars = [0.35, 0.6, 0.9, 0.55, 1.0, 0.7, 0.4, 0.8, 0.5, 0.3]
    bar_w, gap, top = int(26 * unit), int(18 * unit), int(150 * unit)
    for i, h in enumerate(bars):
        x = margin + i * (bar_w + gap)
        half = int(70 * unit * h)
        draw.rounded_rectangle((x, top + 70 * unit - half, x + bar_w, top + 70 * unit + half),
                               radius=bar_w // 2, fill=(255, 255, 255))
    box_top, box_bottom = int(380 * unit), size - int(300 * unit)
    font, lines, step = _fit(draw, title, size - 2 * margin, box_bottom - box_top)
    y = box_top + (box_bottom - box_top - step * len(lines)) // 2
    for line in lines:
        draw.text((margin, y), line, font=font, fill=(255, 255, 255))
        y += step
    if subtitle:
        small = _font(int(56 * unit))
        draw.text((margin, size - int(190 * unit)), subtitle, font=small,
                  fill=(255, 255, 255, 200))
    info = PngInfo()
    info.add_text("Software", MARK)
    info.add_text("Title", title)
    out = io.BytesIO()
    image.save(out, "PNG", pnginfo=info, optimize=True)
    return out.getvalue()


def generated_title(png: bytes) -> str | None:
    """The title a PNG narrator made shows; None for any other file (the publisher's own)."""
    if not png.startswith(b"\x89PNG\r\n\x1a\n"):
        return None
    text, pos = {}, 8
    while pos + 8 <= len(png):
        length = int.from_bytes(png[pos:pos + 4], "big")
        kind = png[pos + 4:pos + 8]
        data = png[pos + 8:pos + 8 + length]
        if kind == b"tEXt" and b"\0" in data:
            key, _, value = data.partition(b"\0")
            text[key.decode("latin-1")] = value.decode("latin-1")
        elif kind == b"iTXt" and data.count(b"\0") >= 3:  # titles beyond Latin-1
            key, _, rest = data.partition(b"\0")
            compressed, rest = rest[0], rest[2:]
            value = rest.split(b"\0", 2)[2]
            text[key.decode("latin-1")] = (zlib.decompress(value) if compressed
                                           else value).decode("utf-8", "replace")
        elif kind in (b"IDAT", b"IEND"):
            break
        pos += 12 + length
    if text.get("Software") != MARK:
        return None
    return text.get("Title")
