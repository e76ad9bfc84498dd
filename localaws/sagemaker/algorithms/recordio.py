"""MXNet's RecordIO image files (`.rec`), read and written without MXNet.

The layout, as MXNet's `recordio.py` and `im2rec` define it:

    record  = magic (uint32 0xced7230a) | lrecord (uint32) | payload | zero padding to 4 bytes
    lrecord = cflag << 29 | payload length; cflag 0 = whole record, 1/2/3 = first/middle/last
              part of a payload that contained the magic number at a 4-byte boundary (the
              writer cuts it there and the reader puts the magic back between the parts)
    image payload = IRHeader '<IfQQ' (flag, label, id, id2) | flag float32 labels if flag > 0
                    | the encoded image (JPEG or PNG bytes)

All little-endian. SageMaker's image-classification algorithm reads exactly these files.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

MAGIC = 0xCED7230A
_MAGIC_BYTES = struct.pack("<I", MAGIC)
_HEADER = struct.Struct("<IfQQ")
_LENGTH_MASK = (1 << 29) - 1


class RecordIOError(ValueError):
    """The bytes are not MXNet RecordIO."""


@dataclass
class ImageRecord:
    labels: list[float]
    id: int
    image: bytes

    @property
    def label(self) -> float:
        return self.labels[0]


# ---------------------------------------------------------------- raw records
def _frame(cflag: int, payload: bytes) -> bytes:
    padding = b"\0" * (-len(payload) % 4)
    return _MAGIC_BYTES + struct.pack("<I", cflag << 29 | len(payload)) + payload + padding


def encode_record(payload: bytes) -> bytes:
    """One payload as RecordIO bytes, split where it holds the magic number, as MXNet does."""
    cuts = [i for i in range(0, len(payload) - 3, 4) if payload[i:i + 4] == _MAGIC_BYTES]
    if not cuts:
        return _frame(0, payload)
    parts, start = [], 0
    for cut in cuts:
        parts.append(payload[start:cut])
        start = cut + 4
    parts.append(payload[start:])
    flags = [1] + [2] * (len(parts) - 2) + [3]
    return b"".join(_frame(flag, part) for flag, part in zip(flags, parts))


def iter_records(data: bytes) -> Iterator[bytes]:
    """The payloads of a RecordIO byte string, split records joined again."""
    position, pending = 0, None
    while position < len(data):
        if len(data) - position < 8:
            raise RecordIOError(f"truncated record header at byte {position}")
        magic, lrecord = struct.unpack_from("<II", data, position)
        if magic != MAGIC:
            raise RecordIOError(f"no RecordIO magic number at byte {position}: not an MXNet .rec file")
        cflag, length = lrecord >> 29, lrecord & _LENGTH_MASK
        start = position + 8
        if start + length > len(data):
            raise RecordIOError(f"record at byte {position} runs past the end of the data")
        part = data[start:start + length]
        position = start + length + (-length % 4)
        if cflag == 0:
            yield part
        elif cflag == 1:
            pending = [part]
        elif pending is None:
            raise RecordIOError(f"continuation record without a first part at byte {position}")
        else:
            pending.append(part)
            if cflag == 3:
                yield _MAGIC_BYTES.join(pending)
                pending = None
    if pending is not None:
        raise RecordIOError("the data ends inside a split record")


# ---------------------------------------------------------------- image records
def pack_image(labels: float | Iterable[float], record_id: int, image: bytes) -> bytes:
    """An image payload: one label in the header, several after it (multi-label)."""
    many = [float(v) for v in labels] if not isinstance(labels, (int, float)) else None
    if many is None or len(many) == 1:
        label = float(labels) if many is None else many[0]
        return _HEADER.pack(0, label, record_id, 0) + image
    return _HEADER.pack(len(many), 0.0, record_id, 0) + struct.pack(f"<{len(many)}f", *many) + image


def unpack_image(payload: bytes) -> ImageRecord:
    if len(payload) < _HEADER.size:
        raise RecordIOError("record too short for an image header")
    flag, label, record_id, _ = _HEADER.unpack_from(payload)
    offset = _HEADER.size
    if flag > 0:
        labels = list(struct.unpack_from(f"<{flag}f", payload, offset))
        offset += 4 * flag
    else:
        labels = [label]
    return ImageRecord(labels, record_id, payload[offset:])


def read_images(path: Path) -> list[ImageRecord]:
    return [unpack_image(payload) for payload in iter_records(Path(path).read_bytes())]


def write_images(path: Path, records: Iterable[tuple[float | list[float], int, bytes]]) -> Path:
    """Write (labels, id, encoded image) triples as a .rec file."""
    path = Path(path)
    path.write_bytes(b"".join(encode_record(pack_image(labels, record_id, image))
                              for labels, record_id, image in records))
    return path


# ---------------------------------------------------------------- .lst files
def read_lst(path: Path) -> list[tuple[int, list[float], str]]:
    """im2rec's list: index <tab> label(s) <tab> relative path, one image a line."""
    entries = []
    for number, line in enumerate(Path(path).read_text().splitlines(), 1):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) < 3:
            raise RecordIOError(f"{Path(path).name} line {number}: expected index, label and path "
                                "separated by tabs")
        try:
            entries.append((int(float(fields[0])), [float(v) for v in fields[1:-1]], fields[-1].strip()))
        except ValueError:
            raise RecordIOError(f"{Path(path).name} line {number}: index and labels must be numbers") from None
    return entries


def lst_line(index: int, label: float, relative_path: str) -> str:
    return f"{index}\t{float(label):.6f}\t{relative_path}\n"
