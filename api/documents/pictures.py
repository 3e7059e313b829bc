"""Pictures that come in (proof photos, evidence fetched from an edge box): their width and
height read from the header before anything decodes them, so a small file that declares
a huge image (a 30000x30000 PNG is under 1 MB) is refused before it costs gigabytes; then
a decode (the readability check) of those that pass."""

from __future__ import annotations

import cv2
import numpy as np

from siteguard.api.errors import Invalid, TooLarge

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_SOI = b"\xff\xd8"
# JPEG start-of-frame markers (baseline, progressive, lossless, arithmetic; not DHT/JPG/DAC)
JPEG_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
JPEG_BARE_MARKERS = frozenset({0x01, *range(0xD0, 0xD8)})  # TEM, RST0-7: no length field


def _png_size(data: bytes) -> tuple[int, int] | None:
    # signature, then the IHDR chunk: length (4), b"IHDR", width (4), height (4)
    if len(data) < 24 or data[12:16] != b"IHDR":
        return None
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    """Walk the marker segments after SOI up to the first start-of-frame."""
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            return None  # not a marker where one must be: corrupt
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in JPEG_BARE_MARKERS:
            i += 2
            continue
        if marker in (0xD8, 0xD9, 0xDA):  # SOI again, EOI, start of scan: no frame header
            return None
        length = int.from_bytes(data[i + 2 : i + 4], "big")
        if marker in JPEG_SOF:
            if length < 7 or i + 9 > len(data):
                return None
            height = int.from_bytes(data[i + 5 : i + 7], "big")
            width = int.from_bytes(data[i + 7 : i + 9], "big")
            return width, height
        if length < 2:
            return None
        i += 2 + length
    return None


def picture_size(name: str, data: bytes) -> tuple[int, int]:
    """(width, height) from a JPEG's or PNG's header; Invalid for anything else."""
    if data.startswith(PNG_SIGNATURE):
        size = _png_size(data)
    elif data.startswith(JPEG_SOI):
        size = _jpeg_size(data)
    else:
        raise Invalid(
            f"{name}: not a readable image: not a JPEG or PNG", f"{name}：不是 JPEG 或 PNG 图片"
        )
    if size is None or 0 in size:
        raise Invalid(
            f"{name}: not a readable image: no image size in its JPEG or PNG header",
            f"{name}：无法读取的图片（文件头中没有尺寸）",
        )
    return size


def check_picture(name: str, data: bytes, max_pixels: int) -> None:
    """Refuse a picture that declares more than `max_pixels` (TooLarge) before decoding it,
    then one that does not decode (Invalid). The decode takes seconds for a big picture:
    call this off the event loop."""
    width, height = picture_size(name, data)
    if width * height > max_pixels:
        raise TooLarge(
            f"{name}: {width}x{height} pixels, over the limit of {max_pixels / 1e6:g} megapixels",
            f"{name}：{width}x{height} 像素，超过 {max_pixels / 1e6:g} 百万像素的上限",
        )
    if cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR) is None:
        raise Invalid(f"{name}: not a readable image", f"{name}：图片已损坏，无法读取")
