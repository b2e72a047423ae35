#!/usr/bin/env python3
"""An independent Modbus TCP server (pymodbus) with a known register image.

It encodes every value type in every word order with Python's own `struct`, not with
essd's code, writes the matching essd profile (TOML) and the expected engineering values
(JSON) to --out, prints "pymodbus peer ready" and serves until killed.

    pymodbus_peer.py --port 15502 --out /tmp/peer
"""
import argparse
import json
import math
import os
import struct
import sys

from pymodbus.datastore import (ModbusDeviceContext, ModbusSequentialDataBlock,
                                ModbusServerContext)
from pymodbus.server import StartTcpServer

FORMATS = {  # type: (struct code, registers)
    "int16": (">h", 1), "uint16": (">H", 1),
    "int32": (">i", 2), "uint32": (">I", 2),
    "int64": (">q", 4), "uint64": (">Q", 4),
    "float32": (">f", 2), "float64": (">d", 4),
}
VALUES = {
    "int16": [-12345, 32767, -1], "uint16": [54321, 0, 65535],
    "int32": [-123456789, 2147483647], "uint32": [3456789012, 305419896],
    "int64": [-1234567890123456, 9007199254740991], "uint64": [12345678901234567, 1 << 52],
    "float32": [123.456, -0.015625], "float64": [-98765.4321, 6.02214076e23],
}


def words_for(raw_bytes, order):
    """Big-endian bytes ABCD... -> register words in the given word/byte order."""
    words = [raw_bytes[i:i + 2] for i in range(0, len(raw_bytes), 2)]
    if order in ("CDAB", "DCBA"):
        words.reverse()
    if order in ("BADC", "DCBA"):
        words = [w[::-1] for w in words]
    return [int.from_bytes(w, "big") for w in words]


def build():
    holding = {}
    inputs = {}
    coils = {}
    discretes = {}
    points = []
    expected = {}
    address = 0
    for typ, (code, nregs) in FORMATS.items():
        for order in ("ABCD", "CDAB", "BADC", "DCBA"):
            for k, value in enumerate(VALUES[typ]):
                if nregs == 1 and order in ("CDAB",):
                    continue  # word swap means nothing for one register
                table = holding if (address // 8) % 2 == 0 else inputs
                kind = "holding" if table is holding else "input"
                raw = struct.pack(code, value)
                for i, w in enumerate(words_for(raw, order)):
                    table[address + i] = w
                name = f"{typ}_{order.lower()}_{k}"
                scale = 0.01 if typ in ("int32", "uint16") and k == 0 else 1.0
                if typ.startswith("float"):
                    exp = struct.unpack(code, raw)[0]
                else:
                    exp = value
                points.append(dict(name=name, kind=kind, address=address, type=typ, order=order, scale=scale))
                expected[name] = exp * scale
                address += nregs + (1 if k % 2 == 0 else 0)  # leave some holes
    # bits of a register
    holding[500] = 0b1010_0000_0000_0101
    for bit in (0, 1, 2, 13, 15):
        name = f"bit{bit}_of_500"
        points.append(dict(name=name, kind="holding", address=500, type=f"bit{bit}", order="ABCD", scale=1.0))
        expected[name] = float((holding[500] >> bit) & 1)
    # a string
    text = b"PYMODBUS-PEER-01"
    for i in range(8):
        holding[510 + i] = int.from_bytes(text[2 * i:2 * i + 2], "big")
    points.append(dict(name="serial_number", kind="holding", address=510, type="string8", order="ABCD", scale=1.0))
    expected["serial_number"] = text.decode()
    # scale factor register (SunSpec style) and a sentinel
    holding[520] = 12345
    holding[521] = (-2) & 0xFFFF
    holding[522] = 0x8000
    points.append(dict(name="w_sf", kind="holding", address=521, type="int16", order="ABCD", scale=1.0, role="scale_factor"))
    points.append(dict(name="w_scaled", kind="holding", address=520, type="uint16", order="ABCD", scale=1.0, scale_factor="w_sf"))
    points.append(dict(name="not_impl", kind="holding", address=522, type="int16", order="ABCD", scale=1.0, not_implemented=-32768))
    expected["w_sf"] = -2.0
    expected["w_scaled"] = 123.45
    expected["not_impl"] = None
    # coils and discrete inputs
    for i, v in enumerate([1, 0, 1, 1, 0, 0, 1, 0, 1]):
        coils[i] = v
        discretes[i] = 1 - v
        points.append(dict(name=f"coil_{i}", kind="coil", address=i, type="bool", order="ABCD", scale=1.0))
        points.append(dict(name=f"discrete_{i}", kind="discrete", address=i, type="bool", order="ABCD", scale=1.0))
        expected[f"coil_{i}"] = float(v)
        expected[f"discrete_{i}"] = float(1 - v)
    return holding, inputs, coils, discretes, points, expected


def block(image, size):
    values = [0] * size
    for a, v in image.items():
        values[a] = v
    return values


def toml_profile(points):
    lines = ['[profile]', 'name = "pymodbus-peer"', 'vendor = "pymodbus"', 'model = "peer"', '']
    for p in points:
        lines.append("[[point]]")
        lines.append(f'name = "{p["name"]}"')
        lines.append(f'role = "{p.get("role", "other")}"')
        lines.append(f'kind = "{p["kind"]}"')
        lines.append(f'address = {p["address"]}')
        lines.append(f'type = "{p["type"]}"')
        lines.append(f'order = "{p["order"]}"')
        lines.append(f'scale = {p["scale"]!r}')
        if "scale_factor" in p:
            lines.append(f'scale_factor = "{p["scale_factor"]}"')
        if "not_implemented" in p:
            lines.append(f'not_implemented = {p["not_implemented"]}')
        lines.append("")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--unit", type=int, default=1)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    holding, inputs, coils, discretes, points, expected = build()
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "pymodbus-peer.toml"), "w") as f:
        f.write(toml_profile(points))
    with open(os.path.join(args.out, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
    # pymodbus' device context addresses blocks from 1: a request for address A reads
    # index A + 1 of a block that starts at 0, so start the blocks at 1.
    device = ModbusDeviceContext(
        hr=ModbusSequentialDataBlock(1, block(holding, 600)),
        ir=ModbusSequentialDataBlock(1, block(inputs, 600)),
        co=ModbusSequentialDataBlock(1, block(coils, 64)),
        di=ModbusSequentialDataBlock(1, block(discretes, 64)),
    )
    context = ModbusServerContext(devices={args.unit: device}, single=False)
    print("pymodbus peer ready", flush=True)
    StartTcpServer(context=context, address=("127.0.0.1", args.port))


if __name__ == "__main__":
    sys.exit(main())
