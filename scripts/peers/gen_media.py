#!/usr/bin/env python3
"""Deterministic test media for the interop peers (no randomness, no dependencies).

  gen_media.py fixtures DIR          write the committed fixtures (see FIXTURES below) into DIR
  gen_media.py pcap OUT [options]    one RTP/G.711 pcap: --codec pcmu|pcma --tone HZ --level DBFS
                                     --seconds S --ssrc 0xHEX --seq N --ts N --dtmf "1@0.6,#@3.0"
  gen_media.py wav OUT [options]     16-bit mono WAV tone: --tone HZ --level DBFS --seconds S --rate HZ

RTP (RFC 3550 §5.1): version 2, 20 ms packets (160 samples), sequence numbers and timestamps
consecutive from --seq/--ts, marker bit on the first audio packet and the first packet of each
event. RFC 4733 events (payload type 101, same SSRC as the audio, RFC 4733 §2.3): one packet per
20 ms with the event's start timestamp and a growing duration (§2.5.1.2), volume 10, the final
packet (E bit) sent three times (§2.5.1.4), each with the next sequence number; no audio packets
while an event plays. Frames: Ethernet/IPv4/UDP 127.0.0.1:40000 -> 127.0.0.1:40002 (sipp's
play_pcap_audio rewrites addresses and ports), classic pcap, microsecond timestamps from
1700000000 s. G.711 encoders follow ITU-T G.711 (the table-free reference algorithm).
"""
import argparse, math, os, struct, sys, wave

PTIME_MS = 20
SPP = 8 * PTIME_MS          # samples (= timestamp units) per packet at 8 kHz
DTMF_PT = 101
EVENT_SLOTS = 8             # event length in packets (160 ms) before the 2 retransmitted end packets
EPOCH = 1_700_000_000
CODES = {**{str(i): i for i in range(10)}, "*": 10, "#": 11, "A": 12, "B": 13, "C": 14, "D": 15}

# The committed fixtures (Tests/EngineInteropTests/Fixtures). Changing these changes the files.
FIXTURES = [
    # name, codec, tone Hz, seconds, ssrc, first seq, first timestamp, dtmf
    ("pcmu-1000hz-4s.pcap", "pcmu", 1000.0, 4.0, 0x45415231, 1000, 160000, ""),
    ("pcmu-dtmf-123hash-4s.pcap", "pcmu", 1000.0, 4.0, 0x45415232, 2000, 320000, "1@0.6,2@1.4,3@2.2,#@3.0"),
]


def lin2ulaw(s):
    """ITU-T G.711 µ-law of a 16-bit sample (bit-exact with the reference algorithm / audioop)."""
    s >>= 2
    mask = 0xFF
    if s < 0:
        s, mask = -s, 0x7F
    s = min(s, 8159) + 0x21
    seg = 0
    while seg < 8 and s > ((0x40 << seg) - 1):
        seg += 1
    if seg >= 8:
        return 0x7F ^ mask
    return ((seg << 4) | ((s >> (seg + 1)) & 0x0F)) ^ mask


def lin2alaw(s):
    """ITU-T G.711 A-law of a 16-bit sample."""
    sign = 0x80 if s >= 0 else 0
    if s < 0:
        s = -s - 1
    s = min(s, 32767) >> 3
    if s < 32:
        v = s >> 1
    else:
        exp, t = 1, s >> 5
        while t > 1 and exp < 7:
            t >>= 1
            exp += 1
        v = (exp << 4) | ((s >> exp) & 0x0F)
    return (v | sign) ^ 0x55


def tone(hz, level_dbfs, n, rate=8000):
    amp = 32767 * 10 ** (level_dbfs / 20.0)
    return [int(round(amp * math.sin(2 * math.pi * hz * i / rate))) for i in range(n)]


def rtp_packets(codec, hz, level, seconds, ssrc, seq0, ts0, dtmf):
    """-> list of (seconds from start, RTP packet bytes)."""
    pt, enc = (0, lin2ulaw) if codec == "pcmu" else (8, lin2alaw)
    slots = int(round(seconds * 1000 / PTIME_MS))
    audio = bytes(enc(s) for s in tone(hz, level, slots * SPP))
    events = {}
    for item in filter(None, dtmf.split(",")):
        digit, at = item.split("@")
        events[int(round(float(at) * 1000 / PTIME_MS))] = CODES[digit.upper()]
    out, seq, first_audio, slot = [], seq0, True, 0

    def pkt(ptype, marker, ts, body):
        nonlocal seq
        h = struct.pack("!BBHII", 0x80, (0x80 if marker else 0) | ptype, seq & 0xFFFF, ts & 0xFFFFFFFF, ssrc)
        seq += 1
        return h + body

    while slot < slots:
        t = slot * PTIME_MS / 1000.0
        if slot in events:
            code, ev_ts = events[slot], ts0 + slot * SPP
            for k in range(EVENT_SLOTS + 2):
                end = k >= EVENT_SLOTS - 1
                duration = min(k + 1, EVENT_SLOTS) * SPP
                body = struct.pack("!BBH", code, (0x80 if end else 0) | 10, duration)
                out.append((t + k * PTIME_MS / 1000.0, pkt(DTMF_PT, k == 0, ev_ts, body)))
            slot += EVENT_SLOTS + 2
            continue
        out.append((t, pkt(pt, first_audio, ts0 + slot * SPP, audio[slot * SPP:(slot + 1) * SPP])))
        first_audio = False
        slot += 1
    return out


def write_pcap(path, packets):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))  # classic pcap, Ethernet
        for t, rtp in packets:
            udp = struct.pack("!HHHH", 40000, 40002, 8 + len(rtp), 0) + rtp
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0xB8, 20 + len(udp), 0, 0x4000, 64, 17, 0,
                             bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1]))
            c = sum(struct.unpack("!10H", ip))
            c = (c & 0xFFFF) + (c >> 16)
            c = ~((c & 0xFFFF) + (c >> 16)) & 0xFFFF
            ip = ip[:10] + struct.pack("!H", c) + ip[12:]
            frame = b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01" + b"\x08\x00" + ip + udp
            usec_total = int(round(t * 1e6))
            f.write(struct.pack("<IIII", EPOCH + usec_total // 1_000_000, usec_total % 1_000_000, len(frame), len(frame)))
            f.write(frame)


def write_wav(path, hz, level, seconds, rate):
    """A whole number of Hz repeats exactly every second: compute one second, repeat it."""
    total = int(rate * seconds)
    block = rate if float(hz).is_integer() else total
    one = b"".join(struct.pack("<h", s) for s in tone(hz, level, min(block, total), rate))
    w = wave.open(path, "wb")
    w.setnchannels(1)
    w.setsampwidth(2)
    w.setframerate(rate)
    full, rest = divmod(total, block)
    for _ in range(full):
        w.writeframes(one)
    w.writeframes(one[:2 * rest])
    w.close()


def describe(name, packets):
    n_audio = sum(1 for _, p in packets if p[1] & 0x7F != DTMF_PT)
    n_ev = len(packets) - n_audio
    return "%s: %d packets (%d audio, %d telephone-event), %.2f s" % (name, len(packets), n_audio, n_ev, packets[-1][0] + PTIME_MS / 1000.0)


def main():
    ap = argparse.ArgumentParser(description="deterministic RTP pcaps and WAV tones")
    sub = ap.add_subparsers(dest="cmd", required=True)
    fx = sub.add_parser("fixtures")
    fx.add_argument("dir")
    p = sub.add_parser("pcap")
    p.add_argument("out")
    p.add_argument("--codec", choices=["pcmu", "pcma"], default="pcmu")
    p.add_argument("--tone", type=float, default=1000.0)
    p.add_argument("--level", type=float, default=-12.0)
    p.add_argument("--seconds", type=float, default=4.0)
    p.add_argument("--ssrc", type=lambda x: int(x, 0), default=0x45415231)
    p.add_argument("--seq", type=int, default=1000)
    p.add_argument("--ts", type=int, default=160000)
    p.add_argument("--dtmf", default="")
    w = sub.add_parser("wav")
    w.add_argument("out")
    w.add_argument("--tone", type=float, default=440.0)
    w.add_argument("--level", type=float, default=-12.0)
    w.add_argument("--seconds", type=float, default=10.0)
    w.add_argument("--rate", type=int, default=8000)
    a = ap.parse_args()
    if a.cmd == "fixtures":
        os.makedirs(a.dir, exist_ok=True)
        for name, codec, hz, sec, ssrc, seq, ts, dtmf in FIXTURES:
            pk = rtp_packets(codec, hz, -12.0, sec, ssrc, seq, ts, dtmf)
            write_pcap(os.path.join(a.dir, name), pk)
            print(describe(name, pk) + ", ssrc=0x%08x seq=%d.. ts=%d.. dtmf=%s" % (ssrc, seq, ts, dtmf or "-"))
    elif a.cmd == "pcap":
        pk = rtp_packets(a.codec, a.tone, a.level, a.seconds, a.ssrc, a.seq, a.ts, a.dtmf)
        write_pcap(a.out, pk)
        print(describe(a.out, pk), file=sys.stderr)
    else:
        write_wav(a.out, a.tone, a.level, a.seconds, a.rate)


if __name__ == "__main__":
    main()
