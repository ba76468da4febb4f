"""Read the metadata of a Stata ``.dta`` file from its header (formats 113-119).

pandas' :class:`~pandas.io.stata.StataReader` reads the data and the value-label *tables*
(``value_labels()``) through its public interface, but it gives no public way to know
which label set a variable uses (the ``lbllist`` of the Stata format). In the World Bank
Enterprise Surveys files the sets are named after the upper-cased variable (``a1`` ->
``A1``) or in CamelCase (``stratificationregioncode`` -> ``StratificationRegionCode``),
and some variables name a set that is not defined: pairing by name is therefore wrong.
This module reads, from the file's own header, the variable names and the label-set name
of each variable, in file order, so the pairing never depends on private attributes.

Layout (Stata ``dta`` file-format documentation, ``help dta`` in Stata 11-18):

* 113/114/115: fixed header of 109 bytes (format, byte order, file type, unused, ``nvar``
  int16, ``nobs`` int32, data label 81 bytes, time stamp 18 bytes), then ``typlist``
  (``nvar`` bytes), ``varlist`` (``nvar`` x 33), ``srtlist`` (2 x (``nvar`` + 1)),
  ``fmtlist`` (``nvar`` x 12 for 113, x 49 for 114/115) and ``lbllist`` (``nvar`` x 33).
  There is no encoding field: text is whatever bytes the writer used (UTF-8 in recent
  World Bank files, latin-1 in older ones).
* 117/118/119: tagged sections; the ``<map>`` gives the offset of ``<varnames>`` (names of
  33 bytes in 117, 129 in 118/119) and ``<value_label_names>`` (same widths). Text is
  UTF-8 from 118 on.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass


@dataclass(frozen=True)
class DtaHeader:
    """What the header of a ``.dta`` file says."""

    format: int
    byteorder: str  # "<" little-endian (LSF) or ">" big-endian (MSF)
    nvar: int
    nobs: int
    data_label: str
    timestamp: str
    varnames: tuple[str, ...]
    label_sets: tuple[str, ...]  # label-set name per variable ("" when none), file order


def decode_text(raw: bytes) -> str:
    """Decode Stata text bytes: UTF-8 when valid, else latin-1 (never fails).

    Format 113-117 files carry no encoding field. Recent World Bank files hold UTF-8 bytes
    (``’`` as ``E2 80 99``) while older ones (and some notes) are latin-1. A latin-1 text
    is almost never valid UTF-8 by accident, so trying UTF-8 first is safe.
    """
    raw = raw.split(b"\x00", 1)[0]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def redecode(text: str) -> str:
    """Repair a text that a reader decoded as latin-1 from UTF-8 bytes (``'â\\x80\\x99'`` -> ``'’'``).

    pandas decodes format <= 117 text as latin-1, which maps every byte to one character,
    so the original bytes are recovered exactly and decoded with :func:`decode_text`.
    """
    try:
        raw = text.encode("latin-1")
    except UnicodeEncodeError:  # not a latin-1 decoding: leave it
        return text
    return decode_text(raw)


def _fixed(buf: bytes, width: int, n: int, start: int) -> tuple[str, ...]:
    return tuple(decode_text(buf[start + i * width: start + (i + 1) * width]) for i in range(n))


def read_dta_header(path: str) -> DtaHeader:
    """Variable names and their label-set names, from the header of a ``.dta`` file.

    Raises
    ------
    ValueError
        The file is not a Stata file of a supported format (113-119) or is truncated.
    """
    with open(path, "rb") as fh:
        head = fh.read(1 << 16)
        if head[:11] == b"<stata_dta>":
            return _read_tagged(fh, head)
        if head[:1] and head[0] in (113, 114, 115) and len(head) < 109:
            raise ValueError("the header is truncated")
        if len(head) < 109 or head[0] not in (113, 114, 115):
            raise ValueError(f"not a Stata .dta file of format 113-119 (first byte {head[:1]!r})")
        fmt = head[0]
        bo = "<" if head[1] == 2 else ">"
        nvar = struct.unpack(bo + "H", head[4:6])[0]
        nobs = struct.unpack(bo + "I", head[6:10])[0]
        data_label = decode_text(head[10:91])
        timestamp = decode_text(head[91:109])
        fmt_width = 12 if fmt == 113 else 49
        need = 109 + nvar + 33 * nvar + 2 * (nvar + 1) + fmt_width * nvar + 33 * nvar
        fh.seek(0)
        buf = fh.read(need)
        if len(buf) < need:
            raise ValueError("the header is truncated")
    pos = 109 + nvar
    varnames = _fixed(buf, 33, nvar, pos)
    pos += 33 * nvar + 2 * (nvar + 1) + fmt_width * nvar
    label_sets = _fixed(buf, 33, nvar, pos)
    return DtaHeader(fmt, bo, nvar, nobs, data_label, timestamp, varnames, label_sets)


def _tag(head: bytes, name: bytes, start: int = 0) -> int:
    i = head.find(b"<" + name + b">", start)
    if i < 0:
        raise ValueError(f"tag <{name.decode()}> not found: not a Stata 117-119 file or truncated")
    return i + len(name) + 2


def _read_tagged(fh, head: bytes) -> DtaHeader:
    fmt = int(head[_tag(head, b"release"): _tag(head, b"release") + 3])
    if fmt not in (117, 118, 119):
        raise ValueError(f"unsupported Stata format {fmt}")
    i = _tag(head, b"byteorder")
    bo = "<" if head[i: i + 3] == b"LSF" else ">"
    i = _tag(head, b"K")
    nvar = struct.unpack(bo + ("I" if fmt == 119 else "H"), head[i: i + (4 if fmt == 119 else 2)])[0]
    i = _tag(head, b"N")
    nobs = struct.unpack(bo + ("I" if fmt == 117 else "Q"), head[i: i + (4 if fmt == 117 else 8)])[0]
    i = _tag(head, b"label")
    if fmt == 117:
        n = head[i]
        data_label = decode_text(head[i + 1: i + 1 + n])
    else:
        n = struct.unpack(bo + "H", head[i: i + 2])[0]
        data_label = decode_text(head[i + 2: i + 2 + n])
    i = _tag(head, b"timestamp")
    timestamp = decode_text(head[i + 1: i + 1 + head[i]])
    i = _tag(head, b"map")
    offsets = struct.unpack(bo + "14Q", head[i: i + 112])
    width = 33 if fmt == 117 else 129

    def section(k: int, tag: bytes) -> bytes:
        fh.seek(offsets[k])
        buf = fh.read(len(tag) + 2 + width * nvar)
        if not buf.startswith(b"<" + tag + b">") or len(buf) < len(tag) + 2 + width * nvar:
            raise ValueError(f"section <{tag.decode()}> not where the map says: the file is damaged")
        return buf[len(tag) + 2:]

    varnames = _fixed(section(3, b"varnames"), width, nvar, 0)
    label_sets = _fixed(section(6, b"value_label_names"), width, nvar, 0)
    return DtaHeader(fmt, bo, nvar, nobs, data_label, timestamp, varnames, label_sets)
