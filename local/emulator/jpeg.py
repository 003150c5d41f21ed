"""Stable Diffusion's images: real JPEGs, encoded by hand so the emulator needs no
imaging library."""

from __future__ import annotations


def solid_jpeg(width: int, height: int, gray: int) -> bytes:
    """A valid baseline greyscale JPEG of one flat shade, without any imaging library.

    Every 8x8 block has only a DC coefficient: the first codes the level, the rest a
    zero difference, so the file is ~3 bits per block.
    """
    dc = 8 * (gray - 128)  # DCT of a flat block of level-shifted value v is 8v
    cat = abs(dc).bit_length()
    symbols = sorted({cat, 0})
    dc_code = {sym: format(i, "02b") for i, sym in enumerate(symbols)}  # 2-bit canonical codes
    eob = "00"
    blocks = ((width + 7) // 8) * ((height + 7) // 8)
    bits = [dc_code[cat]]
    if cat:
        bits.append(format(dc if dc > 0 else dc + (1 << cat) - 1, f"0{cat}b"))
    bits.append(eob)
    if blocks > 1:
        bits.append((dc_code[0] + eob) * (blocks - 1))
    stream = "".join(bits)
    stream += "1" * (-len(stream) % 8)
    data = bytearray()
    for i in range(0, len(stream), 8):
        byte = int(stream[i:i + 8], 2)
        data.append(byte)
        if byte == 0xFF:
            data.append(0x00)

    def segment(marker: int, payload: bytes) -> bytes:
        return bytes([0xFF, marker]) + (len(payload) + 2).to_bytes(2, "big") + payload

    counts = bytearray(16)
    counts[1] = len(symbols)  # index 1 = codes of length 2
    ac_counts = bytearray(16)
    ac_counts[1] = 1
    return b"".join([
        b"\xff\xd8",
        segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"),
        segment(0xDB, b"\x00" + b"\x01" * 64),
        segment(0xC0, b"\x08" + height.to_bytes(2, "big") + width.to_bytes(2, "big") + b"\x01\x01\x11\x00"),
        segment(0xC4, b"\x00" + bytes(counts) + bytes(symbols)),
        segment(0xC4, b"\x10" + bytes(ac_counts) + b"\x00"),
        segment(0xDA, b"\x01\x01\x00\x00\x3f\x00"),
        bytes(data),
        b"\xff\xd9",
    ])
