#!/usr/bin/env python3
"""A hostile Modbus peer (TCP or RTU), independent of essd's code: raw sockets / a tty,
Python's own framing and CRC, no Modbus library.

Healthy units answer read requests (FC 1-4) correctly from a known image:
    holding/input register at address a of unit u = (1000 * u + a) & 0xFFFF
    coil/discrete input at address a of unit u     = (a + u) % 2
The hostile unit (--hostile-unit) answers according to --mode:

    ok              correct answer (the hostile unit is then healthy)
    wrong-unit      correct TID/FC/byte count, but another unit's id (unit + 1 ... the
                    finding of issue 11) and data words 20000 + a
    wrong-tid       TCP: transaction id + 1
    wrong-protocol  TCP: protocol id 1
    wrong-function  FC 3<->4, 1<->2, same data
    wrong-exception an exception answer for another function code
    wrong-bytecount byte count and data for count + 1 values, framing self-consistent
    truncated       byte count and data for count - 1 values (a short, self-consistent frame)
    short           the first half of a correct frame, then nothing (the rest never comes)
    overlong        a correct frame plus 4 bytes in the same write; TCP: the MBAP length
                    counts them
    trailing        a correct frame (TCP: correct MBAP length) followed by 4 more bytes
    split           a correct frame written in 3 pieces with --pause-ms pauses
    bad-crc         RTU: the CRC's low byte flipped
    exception:N     Modbus exception N (2, 4, 6, ...)
    refuse:A-B      exception 2 for a request that covers any address in A..B (inclusive), a
                    correct answer otherwise (one unreadable register inside a merged read)
    busy-every:N    exception 6 (busy) for every N-th request to the unit, correct otherwise
    silence         no answer at all

--outage-after S --outage-for D (TCP): S seconds after start the peer closes its listening
socket and every connection (connects are refused), and listens again D seconds later; it
prints "outage start MS" and "outage end MS" (Unix ms) when it does.

It prints "hostile peer ready" when it listens (TCP) or has opened the line (RTU), and logs
one line per request to stderr.

    hostile_peer.py --port 15502 --hostile-unit 2 --mode wrong-unit
    hostile_peer.py --serial /tmp/pty-a --hostile-unit 2 --mode bad-crc
"""
import argparse
import os
import socket
import struct
import sys
import threading
import time


def crc16(data):
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def image(unit, fc, address, count, offset=0):
    """The PDU data (byte count excluded) of a correct answer."""
    if fc in (3, 4):
        return b"".join(struct.pack(">H", (1000 * unit + address + i + offset) & 0xFFFF) for i in range(count))
    bits = bytearray((count + 7) // 8)
    for i in range(count):
        if (address + i + unit) % 2:
            bits[i // 8] |= 1 << (i % 8)
    return bytes(bits)


class Answer:
    """What to write for one request: a list of (bytes, pause-before-seconds)."""

    def __init__(self, pieces):
        self.pieces = pieces


def answer(mode, framing, tid, unit, fc, address, count, pause):
    def adu(pdu, unit_id=unit, tid_=tid, protocol=0, extra_length=0):
        if framing == "tcp":
            return struct.pack(">HHHB", tid_, protocol, len(pdu) + 1 + extra_length, unit_id) + pdu
        body = bytes([unit_id]) + pdu
        crc = crc16(body)
        return body + bytes([crc & 0xFF, crc >> 8])

    def reply(n=count, offset=0):
        data = image(unit, fc, address, max(n, 0), offset)
        return bytes([fc, len(data)]) + data

    good = adu(reply())
    if mode == "ok":
        return [(good, 0)]
    if mode == "wrong-unit":
        data = b"".join(struct.pack(">H", 20000 + address + i) for i in range(count)) if fc in (3, 4) \
            else image(unit + 1, fc, address, count)
        return [(adu(bytes([fc, len(data)]) + data, unit_id=(unit % 247) + 1), 0)]
    if mode == "wrong-tid":
        return [(adu(reply(), tid_=(tid + 1) & 0xFFFF), 0)]
    if mode == "wrong-protocol":
        return [(adu(reply(), protocol=1), 0)]
    if mode == "wrong-function":
        other = {1: 2, 2: 1, 3: 4, 4: 3}[fc]
        return [(adu(bytes([other]) + reply()[1:]), 0)]
    if mode == "wrong-exception":
        other = {1: 2, 2: 1, 3: 4, 4: 3}[fc]
        return [(adu(bytes([other | 0x80, 2])), 0)]
    if mode == "wrong-bytecount":
        extra = count + 1 if fc in (3, 4) else count + 8
        return [(adu(reply(extra)), 0)]
    if mode == "truncated":
        fewer = count - 1 if fc in (3, 4) else count - 8
        return [(adu(reply(fewer)), 0)]
    if mode == "short":
        return [(good[: len(good) // 2], 0)]
    if mode == "overlong":
        if framing == "tcp":
            return [(adu(reply(), extra_length=4) + b"\x00\x00\x00\x00", 0)]
        return [(good + b"\x00\x00\x00\x00", 0)]
    if mode == "trailing":
        return [(good + b"\x12\x34\x56\x78", 0)]
    if mode == "split":
        a, b = len(good) // 3, 2 * len(good) // 3
        return [(good[:a], 0), (good[a:b], pause), (good[b:], pause)]
    if mode == "bad-crc":
        return [(good[:-2] + bytes([good[-2] ^ 0xFF, good[-1]]), 0)]
    if mode.startswith("exception:"):
        return [(adu(bytes([fc | 0x80, int(mode.split(":")[1])])), 0)]
    if mode.startswith("refuse:"):
        first, last = (int(x) for x in mode.split(":")[1].split("-"))
        if address <= last and address + count - 1 >= first:
            return [(adu(bytes([fc | 0x80, 2])), 0)]
        return [(adu(reply()), 0)]
    if mode.startswith("busy-every:"):
        every = int(mode.split(":")[1])
        if every <= 0:
            raise SystemExit("busy-every:N needs N > 0")
        with COUNTER_LOCK:
            COUNTER[0] += 1
            busy = COUNTER[0] % every == 0
        return [(adu(bytes([fc | 0x80, 6]) if busy else reply()), 0)]
    if mode == "silence":
        return []
    raise SystemExit(f"unknown mode {mode}")


COUNTER = [0]
COUNTER_LOCK = threading.Lock()


def respond(args, framing, tid, unit, fc, address, count, write):
    mode = args.mode if unit == args.hostile_unit else "ok"
    if unit not in args.units:
        mode = "silence"
    if fc not in (1, 2, 3, 4):
        mode = "silence"
    pieces = answer(mode, framing, tid, unit, fc, address, count, args.pause_ms / 1000)
    print(f"request unit={unit} fc={fc} address={address} count={count} mode={mode}", file=sys.stderr, flush=True)
    for data, pause in pieces:
        if pause:
            time.sleep(pause)
        write(data)


def read_exact(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def serve_tcp_client(args, conn):
    with conn:
        while True:
            header = read_exact(conn, 7)
            if header is None:
                return
            tid, _protocol, length, unit = struct.unpack(">HHHB", header)
            pdu = read_exact(conn, length - 1)
            if pdu is None:
                return
            if len(pdu) < 5:
                continue
            fc, address, count = pdu[0], struct.unpack(">H", pdu[1:3])[0], struct.unpack(">H", pdu[3:5])[0]
            try:
                respond(args, "tcp", tid, unit, fc, address, count, conn.sendall)
            except OSError:
                return


def listen(port):
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen(8)
    return server


def serve_tcp(args):
    state = {"server": listen(args.port), "clients": [], "down": False}
    lock = threading.Lock()

    def outage():
        time.sleep(args.outage_after)
        with lock:
            state["down"] = True
            state["server"].close()
            for conn in state["clients"]:
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                conn.close()
            state["clients"] = []
        print(f"outage start {int(time.time() * 1000)}", flush=True)
        time.sleep(args.outage_for)
        with lock:
            state["server"] = listen(args.port)
            state["down"] = False
        print(f"outage end {int(time.time() * 1000)}", flush=True)

    if args.outage_after is not None:
        threading.Thread(target=outage, daemon=True).start()
    print("hostile peer ready", flush=True)
    while True:
        with lock:
            server = state["server"]
        try:
            server.settimeout(0.05)
            conn, _ = server.accept()
        except (socket.timeout, OSError):
            continue
        with lock:
            if state["down"]:
                conn.close()
                continue
            state["clients"].append(conn)
        conn.settimeout(None)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=serve_tcp_client, args=(args, conn), daemon=True).start()


def serve_rtu(args):
    import termios
    import tty
    fd = os.open(args.serial, os.O_RDWR | os.O_NOCTTY)
    tty.setraw(fd)
    termios.tcflush(fd, termios.TCIOFLUSH)
    print("hostile peer ready", flush=True)
    buffer = b""

    def write(data):
        os.write(fd, data)

    while True:
        buffer += os.read(fd, 256)
        while len(buffer) >= 8:
            frame = buffer[:8]
            if crc16(frame[:6]) != frame[6] | frame[7] << 8:
                buffer = buffer[1:]  # not a request start: resynchronise byte by byte
                continue
            buffer = buffer[8:]
            unit, fc = frame[0], frame[1]
            address, count = struct.unpack(">HH", frame[2:6])
            respond(args, "rtu", 0, unit, fc, address, count, write)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    link = parser.add_mutually_exclusive_group(required=True)
    link.add_argument("--port", type=int, help="listen on 127.0.0.1:PORT (Modbus TCP)")
    link.add_argument("--serial", help="serve Modbus RTU on this tty (one end of a socat pty pair)")
    parser.add_argument("--units", type=int, nargs="+", default=[1, 2], help="unit ids that answer (default 1 2)")
    parser.add_argument("--hostile-unit", type=int, default=2)
    parser.add_argument("--mode", default="wrong-unit")
    parser.add_argument("--pause-ms", type=int, default=50, help="pause between the pieces of a split frame")
    parser.add_argument("--outage-after", type=float, help="TCP: seconds after start to go away")
    parser.add_argument("--outage-for", type=float, default=25, help="TCP: seconds to stay away")
    args = parser.parse_args()
    answer(args.mode, "tcp", 0, 1, 3, 0, 2, 0)  # refuse an unknown mode at start
    COUNTER[0] = 0
    if args.port is not None:
        serve_tcp(args)
    else:
        serve_rtu(args)


if __name__ == "__main__":
    main()
