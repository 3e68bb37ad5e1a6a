#!/usr/bin/env python3
"""Dominant tone of a WAV (16-bit PCM) or of the G.711 payload of one RTP stream in a pcap.

  audio_check.py wav FILE                 -> "<Hz> <seconds>"
  audio_check.py pcap FILE SRCPORT        -> "<Hz> <packets>"  (UDP from SRCPORT, payload type 0 or 8)
  audio_check.py tones FILE START HZ...    -> one line per HZ: "<Hz> <fraction> <mean level dBFS>"
      over the 20 ms frames of the WAV from START seconds on: the share of frames in which the
      tone's level (Goertzel amplitude estimate) is at least -40 dBFS, and the mean level of
      those frames ("-" when none). Checks a conference mix: which tones it holds, at what level.

The peak is searched from 100 to 3990 Hz in 10 Hz steps with the Goertzel algorithm over 0.2 s
taken one second in (or at the start of shorter signals). Used by scripts/peers/selftest.
"""
import math, struct, sys, wave


def ulaw(u):
    u = ~u & 0xFF
    t = ((u & 0x0F) << 3) + 0x84
    t <<= (u & 0x70) >> 4
    return (0x84 - t) if u & 0x80 else (t - 0x84)


def alaw(a):
    a ^= 0x55
    t = (a & 0x0F) << 4
    seg = (a & 0x70) >> 4
    t = t + 8 if seg == 0 else (t + 0x108) << (seg - 1)
    return t if a & 0x80 else -t


def peak(x, rate=8000):
    start = rate if len(x) >= rate + rate // 5 else 0
    x = x[start:start + rate // 5]
    best = (0.0, 0)
    for f in range(100, 4000, 10):
        w = 2 * math.cos(2 * math.pi * f / rate)
        s1 = s2 = 0.0
        for v in x:
            s1, s2 = v + w * s1 - s2, s1
        best = max(best, (s1 * s1 + s2 * s2 - w * s1 * s2, f))
    return best[1]


def from_pcap(path, sport):
    data = open(path, "rb").read()
    magic = struct.unpack_from("<I", data, 0)[0]
    if magic != 0xA1B2C3D4:
        raise SystemExit("classic little-endian pcap expected")
    link = struct.unpack_from("<I", data, 20)[0]
    off, samples, n = 24, [], 0
    while off + 16 <= len(data):
        incl = struct.unpack_from("<I", data, off + 8)[0]
        frame = data[off + 16: off + 16 + incl]
        off += 16 + incl
        ip = frame[14:] if link == 1 else frame[16:] if link == 113 else frame[4:] if link == 0 else frame
        if len(ip) < 28 or ip[0] >> 4 != 4 or ip[9] != 17:
            continue
        ihl = (ip[0] & 0x0F) * 4
        if struct.unpack_from("!H", ip, ihl)[0] != sport:
            continue
        rtp = ip[ihl + 8:]
        if len(rtp) < 12 or rtp[1] & 0x7F not in (0, 8):
            continue
        dec = ulaw if rtp[1] & 0x7F == 0 else alaw
        samples.extend(dec(b) for b in rtp[12:])
        n += 1
    return samples, n


def tone_levels(x, freqs, start, rate=8000, n=160, floor_db=-40.0):
    frames = [x[i:i + n] for i in range(int(start * rate), len(x) - n + 1, n)]
    out = []
    for f in freqs:
        w = 2 * math.cos(2 * math.pi * f / rate)
        levels = []
        for frame in frames:
            s1 = s2 = 0.0
            for v in frame:
                s1, s2 = v + w * s1 - s2, s1
            power = max(0.0, s1 * s1 + s2 * s2 - w * s1 * s2)
            amplitude = 2 * math.sqrt(power) / n
            levels.append(20 * math.log10(amplitude / 32768) if amplitude > 0 else -200.0)
        present = [l for l in levels if l >= floor_db]
        fraction = len(present) / len(levels) if levels else 0.0
        mean = "%.1f" % (sum(present) / len(present)) if present else "-"
        out.append("%d %.3f %s" % (f, fraction, mean))
    return out


def main():
    if sys.argv[1] == "tones":
        w = wave.open(sys.argv[2])
        raw = w.readframes(w.getnframes())
        x = list(struct.unpack("<%dh" % (len(raw) // 2), raw))[::w.getnchannels()]
        for line in tone_levels(x, [int(f) for f in sys.argv[4:]], float(sys.argv[3]), w.getframerate()):
            print(line)
        return
    if sys.argv[1] == "wav":
        w = wave.open(sys.argv[2])
        raw = w.readframes(w.getnframes())
        x = list(struct.unpack("<%dh" % (len(raw) // 2), raw))[::w.getnchannels()]
        print(peak(x, w.getframerate()) if x else 0, "%.1f" % (len(x) / w.getframerate()))
    else:
        x, n = from_pcap(sys.argv[2], int(sys.argv[3]))
        print(peak(x) if x else 0, n)


if __name__ == "__main__":
    main()
