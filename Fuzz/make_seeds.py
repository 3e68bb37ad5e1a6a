#!/usr/bin/env python3
"""Writes the hand-made seed inputs of the fuzz corpora in Fuzz/Corpus/<target>/.

    python3 Fuzz/make_seeds.py          (re)write the seeds; inputs libFuzzer added are kept

Seeds named ok-* must be accepted by the target's parser and bad-* refused (FuzzCorpusTests
checks this); other names (RFC 4475 messages, SDP examples copied from the SDP tests) may go
either way. Binary seeds are built here byte by byte, independently of the Swift encoders,
so a corpus test also cross-checks the decoders against a second implementation.
"""
import json
import os
import re
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "Fuzz", "Corpus")


def write(target, name, data):
    directory = os.path.join(CORPUS, target)
    os.makedirs(directory, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data)


def crlf(text):
    lines = text.strip("\n").split("\n")
    return "\r\n".join(lines) + "\r\n"


def sip(head, body=""):
    """A message from header lines (LF-separated); Content-Length is added from the body."""
    body_bytes = body.encode() if isinstance(body, str) else body
    return crlf(head).encode() + b"Content-Length: %d\r\n\r\n" % len(body_bytes) + body_bytes


# ---------------------------------------------------------------------------------------- SIP

OFFER = crlf("""
v=0
o=alice 2890844526 2890844526 IN IP4 192.0.2.10
s=-
c=IN IP4 192.0.2.10
t=0 0
m=audio 49170 RTP/AVP 0 8 101
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-16
a=ptime:20
a=sendrecv
""")

ANSWER = crlf("""
v=0
o=bob 2808844564 2808844564 IN IP4 192.0.2.20
s=-
c=IN IP4 192.0.2.20
t=0 0
m=audio 5004 RTP/AVP 0 101
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-16
a=ptime:20
a=sendrecv
""")


def sip_seeds():
    fixtures = os.path.join(ROOT, "Tests", "SIPCoreTests", "Fixtures", "rfc4475")
    with open(os.path.join(fixtures, "index.json")) as f:
        index = json.load(f)
    for name, entry in sorted(index.items()):
        with open(os.path.join(fixtures, entry["file"]), "rb") as f:
            write("FuzzSIP", "rfc4475-" + entry["file"], f.read())

    write("FuzzSIP", "ok-invite-sdp.sip", sip("""
INVITE sip:bob@biloxi.example.com SIP/2.0
Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK776asdhds;rport
Max-Forwards: 70
To: Bob <sip:bob@biloxi.example.com>
From: "Alice \\"A\\"" <sip:alice@atlanta.example.com>;tag=1928301774
Call-ID: a84b4c76e66710@pc33.atlanta.example.com
CSeq: 314159 INVITE
Contact: <sip:alice@192.0.2.10:5060;transport=udp>;expires=3600;q=0.7
Route: <sip:p1.example.com;lr>, <sip:[2001:db8::1]:5070;lr>
Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE
Supported: timer, 100rel
Session-Expires: 1800;refresher=uac
Min-SE: 90
Content-Type: application/sdp
""", OFFER))
    write("FuzzSIP", "ok-200-invite.sip", sip("""
SIP/2.0 200 OK
Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK776asdhds;received=192.0.2.10;rport=5060
Record-Route: <sip:p1.example.com;lr>
To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf
From: "Alice \\"A\\"" <sip:alice@atlanta.example.com>;tag=1928301774
Call-ID: a84b4c76e66710@pc33.atlanta.example.com
CSeq: 314159 INVITE
Contact: <sip:bob@192.0.2.20>
Require: timer
Session-Expires: 1800;refresher=uac
Content-Type: application/sdp
""", ANSWER))
    write("FuzzSIP", "ok-ack.sip", sip("""
ACK sip:bob@192.0.2.20 SIP/2.0
Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnashds9
Route: <sip:p1.example.com;lr>
Max-Forwards: 70
To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf
From: <sip:alice@atlanta.example.com>;tag=1928301774
Call-ID: a84b4c76e66710@pc33.atlanta.example.com
CSeq: 314159 ACK
"""))
    write("FuzzSIP", "ok-update-refresh.sip", sip("""
UPDATE sip:bob@192.0.2.20 SIP/2.0
v: SIP/2.0/TCP pc33.atlanta.example.com;branch=z9hG4bK-update-1
Max-Forwards: 70
t: <sip:bob@biloxi.example.com>;tag=a6c85cf
f: <sip:alice@atlanta.example.com>;tag=1928301774
i: a84b4c76e66710@pc33.atlanta.example.com
CSeq: 314160 UPDATE
m: <sip:alice@192.0.2.10;transport=tcp>
k: timer
x: 1800;refresher=uas
"""))
    write("FuzzSIP", "ok-bye.sip", sip("""
BYE sip:alice@192.0.2.10 SIP/2.0
Via: SIP/2.0/UDP 192.0.2.20:5060;branch=z9hG4bKnashds10
Max-Forwards: 70
From: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf
To: Alice <sip:alice@atlanta.example.com>;tag=1928301774
Call-ID: a84b4c76e66710@pc33.atlanta.example.com
CSeq: 231 BYE
"""))
    write("FuzzSIP", "ok-401-challenge.sip", sip("""
SIP/2.0 401 Unauthorized
Via: SIP/2.0/UDP bobspc.biloxi.example.com:5060;branch=z9hG4bKnashds7;received=192.0.2.4
To: Bob <sip:bob@biloxi.example.com>;tag=2493k59kd
From: Bob <sip:bob@biloxi.example.com>;tag=456248
Call-ID: 843817637684230@998sdasdh09
CSeq: 1826 REGISTER
WWW-Authenticate: Digest realm="biloxi.example.com", qop="auth", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41", algorithm=SHA-256
WWW-Authenticate: Digest realm="biloxi.example.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", stale=TRUE, algorithm=MD5
"""))
    write("FuzzSIP", "ok-register-auth.sip", sip("""
REGISTER sip:registrar.biloxi.example.com SIP/2.0
Via: SIP/2.0/UDP bobspc.biloxi.example.com:5060;branch=z9hG4bKnashds8
Max-Forwards: 70
To: Bob <sip:bob@biloxi.example.com>
From: Bob <sip:bob@biloxi.example.com>;tag=456248
Call-ID: 843817637684230@998sdasdh09
CSeq: 1827 REGISTER
Contact: <sip:bob@192.0.2.4>;expires=7200
Expires: 7200
Authorization: Digest username="bob", realm="biloxi.example.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="sip:registrar.biloxi.example.com", qop=auth, nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41", algorithm=MD5
"""))
    write("FuzzSIP", "ok-407-proxy.sip", sip("""
SIP/2.0 407 Proxy Authentication Required
Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK-407
To: <sip:bob@biloxi.example.com>;tag=3flal12sf
From: <sip:alice@atlanta.example.com>;tag=9fxced76sl
Call-ID: 3848276298220188511@atlanta.example.com
CSeq: 1 INVITE
Proxy-Authenticate: Digest realm="atlanta.example.com", domain="sip:ss1.example.com sip:ss2.example.com", qop="auth", nonce="f84f1cec41e6cbe5aea9c8e88d359", opaque="", stale=FALSE, algorithm=MD5
"""))
    write("FuzzSIP", "ok-options-tel.sip", sip("""
OPTIONS tel:+1-201-555-0123;phone-context=example.com SIP/2.0
Via: SIP/2.0/TLS [2001:db8::9]:5061;branch=z9hG4bK-opt;maddr=[2001:db8::a];ttl=16
Max-Forwards: 0
To: <tel:+12015550123>
From: "Anonymous" <sip:anonymous@anonymous.invalid>;tag=hyh8
Call-ID: 1j9FpLxk3uxtm8tn@[2001:db8::9]
CSeq: 1 OPTIONS
Accept: application/sdp
Unsupported: foo
Proxy-Require: sec-agree
"""))
    write("FuzzSIP", "ok-register-wildcard.sip", sip("""
REGISTER sips:registrar.example.com SIP/2.0
Via: SIP/2.0/TLS client.example.com:5061;branch=z9hG4bK-wild
Max-Forwards: 70
To: <sips:user@example.com>
From: <sips:user@example.com>;tag=x1
Call-ID: wildcard-1
CSeq: 9 REGISTER
Contact: *
Expires: 0
"""))
    write("FuzzSIP", "ok-180-ringing.sip", sip("""
SIP/2.0 180 Ringing
Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds
To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf
From: <sip:alice@atlanta.example.com>;tag=1928301774
Call-ID: a84b4c76e66710@pc33.atlanta.example.com
CSeq: 314159 INVITE
Contact: <sip:bob@192.0.2.20>
"""))
    # A TCP stream: a keep-alive ping, a request, a pong, a response with a body. As a
    # datagram the leading CRLFs and the trailing message are framing questions.
    stream = (b"\r\n\r\n" + sip("""
OPTIONS sip:bob@biloxi.example.com SIP/2.0
Via: SIP/2.0/TCP pc33.atlanta.example.com;branch=z9hG4bK-stream1
Max-Forwards: 70
To: <sip:bob@biloxi.example.com>
From: <sip:alice@atlanta.example.com>;tag=s1
Call-ID: stream-1
CSeq: 1 OPTIONS
""") + b"\r\n" + sip("""
SIP/2.0 200 OK
Via: SIP/2.0/TCP pc33.atlanta.example.com;branch=z9hG4bK-stream1
To: <sip:bob@biloxi.example.com>;tag=s2
From: <sip:alice@atlanta.example.com>;tag=s1
Call-ID: stream-1
CSeq: 1 OPTIONS
Content-Type: application/sdp
""", ANSWER))
    write("FuzzSIP", "stream-ping-request-pong-response.sip", stream)
    write("FuzzSIP", "bad-not-sip.sip", b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n")
    write("FuzzSIP", "bad-no-crlf.sip", b"INVITE sip:bob@example.com SIP/2.0")
    write("FuzzSIP", "bad-conflicting-content-length.sip", sip("""
MESSAGE sip:bob@example.com SIP/2.0
Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK-cl
Content-Length: 3
""", "hello"))


# ---------------------------------------------------------------------------------------- SDP

def swift_multiline_strings(path):
    """The text of each Swift multi-line string literal in a file, indentation removed."""
    with open(path) as f:
        source = f.read()
    for match in re.finditer(r'"""\n(.*?)\n( *)"""', source, re.S):
        body, indent = match.group(1), match.group(2)
        if "\\(" in body:
            continue  # interpolated: not a literal description
        lines = [line[len(indent):] if line.startswith(indent) else line.lstrip() for line in body.split("\n")]
        text = "\n".join(lines).replace("\\u{20}", " ").replace("\\t", "\t")
        yield text


def sdp_seeds():
    tests = os.path.join(ROOT, "Tests", "SDPTests")
    seen = set()
    for file in sorted(os.listdir(tests)):
        if not file.endswith(".swift"):
            continue
        number = 0
        for text in swift_multiline_strings(os.path.join(tests, file)):
            if text.startswith("m="):
                # RFC 4317 examples are m= sections under a session written by a helper.
                text = ("v=0\no=alice 2890844526 2890844526 IN IP4 host.atlanta.example.com\ns= \n"
                        "c=IN IP4 host.atlanta.example.com\nt=0 0\n" + text)
            if not text.startswith("v=") or text in seen:
                continue
            seen.add(text)
            number += 1
            stem = file[: -len(".swift")]
            write("FuzzSDP", "example-%s-%02d.sdp" % (stem, number), crlf(text))

    write("FuzzSDP", "ok-offer-pcmu-pcma-te.sdp", OFFER)
    write("FuzzSDP", "ok-answer-pcmu.sdp", ANSWER)
    write("FuzzSDP", "ok-offer-ipv6-media-c-rtcp.sdp", crlf("""
v=0
o=- 1 1 IN IP6 2001:db8::10
s=call
i=information
u=http://www.example.com/seminars/sdp.pdf
e=j.doe@example.com (Jane Doe)
p=+1 617 555-6011
b=AS:64
t=2873397496 2873404696
r=7d 1h 0 25h
z=2882844526 -1h 2898848070 0
a=recvonly
m=audio 5004 RTP/AVP 8 0 101
c=IN IP6 2001:db8::11
b=TIAS:64000
a=rtpmap:8 PCMA/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=ptime:30
a=maxptime:60
a=rtcp:5010 IN IP6 2001:db8::12
a=rtcp-mux
m=video 0 RTP/AVP 31
"""))
    write("FuzzSDP", "ok-hold-sendonly.sdp", crlf("""
v=0
o=alice 2890844526 2890844527 IN IP4 0.0.0.0
s=-
c=IN IP4 0.0.0.0
t=0 0
m=audio 49170 RTP/AVP 0
a=sendonly
"""))
    write("FuzzSDP", "ok-lf-only.sdp", OFFER.replace("\r\n", "\n"))
    write("FuzzSDP", "ok-savp-and-avp.sdp", crlf("""
v=0
o=- 20 20 IN IP4 host.example.com
s=-
t=0 0
m=audio 4000 RTP/SAVP 0
c=IN IP4 192.0.2.30
a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR
m=audio 4002 RTP/AVP 96 18
c=IN IP4 192.0.2.30
a=rtpmap:96 opus/48000/2
a=rtpmap:18 G729/8000
"""))
    write("FuzzSDP", "bad-no-version.sdp", OFFER.split("\r\n", 1)[1])
    write("FuzzSDP", "bad-port-not-number.sdp", OFFER.replace("m=audio 49170", "m=audio x9170"))
    write("FuzzSDP", "bad-duplicate-origin.sdp",
          OFFER.replace("s=-\r\n", "o=bob 1 1 IN IP4 192.0.2.1\r\ns=-\r\n"))


# ---------------------------------------------------------------------------------------- RTP

def rtp(pt, seq, ts, ssrc, payload=b"", marker=False, csrcs=(), extension=None, padding=0):
    """RFC 3550 §5.1 packet; extension = (profile, data) with len(data) % 4 == 0."""
    b0 = 0x80 | len(csrcs) | (0x20 if padding else 0) | (0x10 if extension else 0)
    out = struct.pack("!BBHII", b0, (0x80 if marker else 0) | pt, seq, ts, ssrc)
    out += b"".join(struct.pack("!I", c) for c in csrcs)
    if extension:
        profile, data = extension
        out += struct.pack("!HH", profile, len(data) // 4) + data
    out += payload
    if padding:
        out += b"\x00" * (padding - 1) + bytes([padding])
    return out


def rtp_seeds():
    write("FuzzRTP", "ok-pcmu.rtp", rtp(0, 0x1234, 0xDEADBEEF, 0x01020304, b"\xff\xfe\x7f", marker=True))
    write("FuzzRTP", "ok-pcma-20ms.rtp", rtp(8, 1, 160, 0xCAFEBABE, bytes(range(0x50, 0x50 + 160))))
    write("FuzzRTP", "ok-everything.rtp", rtp(8, 65535, 160, 0xCAFEBABE, b"\xd5\xd5",
                                              csrcs=(0x11111111, 0x22222222),
                                              extension=(0xBEDE, b"\x10\xaa\x20\xbb"), padding=3))
    # RFC 8285 §4.2 one-byte form: id 1 len 1, id 2 len 4, padding, id 15 stops parsing.
    write("FuzzRTP", "ok-one-byte-extension.rtp",
          rtp(96, 7, 1000, 9, b"\x01\x02", extension=(0xBEDE, b"\x10\x01\x23\x01\x02\x03\x04\x00\xf0\x00\x00\x00")))
    # RFC 8285 §4.3 two-byte form, appbits 5: id 1 len 0, id 2 len 1, pad, id 3 len 4.
    write("FuzzRTP", "ok-two-byte-extension.rtp",
          rtp(111, 8, 1960, 9, b"\x55", extension=(0x1005, b"\x01\x00\x02\x01\x42\x00\x03\x04\xde\xad\xbe\xef")))
    write("FuzzRTP", "ok-opaque-extension.rtp", rtp(0, 9, 2000, 9, b"\xff", extension=(0x1234, b"")))
    # RFC 4733 §2.3: event 5, volume 10, duration 800; the end packet; two reports in one.
    write("FuzzRTP", "ok-telephone-event.rtp", rtp(101, 100, 8000, 0x5EED, b"\x05\x0a\x03\x20", marker=True))
    write("FuzzRTP", "ok-telephone-event-end.rtp", rtp(101, 103, 8000, 0x5EED, b"\x05\x8a\x06\x40"))
    write("FuzzRTP", "ok-telephone-event-two.rtp", rtp(101, 104, 8000, 0x5EED, b"\x01\x8a\x03\x20\x02\x0a\x01\x40"))
    write("FuzzRTP", "ok-padding-only.rtp", rtp(0, 10, 0, 1, padding=16))
    write("FuzzRTP", "ok-fifteen-csrcs.rtp", rtp(18, 11, 0, 1, b"\x00" * 20, csrcs=tuple(range(1, 16))))
    write("FuzzRTP", "bad-truncated-header.rtp", rtp(0, 1, 2, 3)[:11])
    write("FuzzRTP", "bad-version-1.rtp", b"\x40" + rtp(0, 1, 2, 3, b"\xff")[1:])
    write("FuzzRTP", "bad-pt-72-rtcp.rtp", rtp(72, 1, 2, 3, b"\xff", marker=True))
    write("FuzzRTP", "bad-csrc-beyond.rtp", b"\x8f" + rtp(0, 1, 2, 3, b"\xff" * 8)[1:])
    write("FuzzRTP", "bad-extension-beyond.rtp", rtp(0, 1, 2, 3, extension=(0xBEDE, b"\x10\xaa\x00\x00"))[:-2])
    write("FuzzRTP", "bad-padding-zero.rtp", rtp(0, 1, 2, 3, b"\xff\xff", padding=2)[:-1] + b"\x00")
    write("FuzzRTP", "bad-padding-beyond.rtp", rtp(0, 1, 2, 3, b"\xff\xff", padding=2)[:-1] + b"\x09")


# --------------------------------------------------------------------------------------- RTCP

def rtcp(pt, count, body, padding=0):
    """RFC 3550 §6.4.1 common header around a body of whole words."""
    assert len(body) % 4 == 0 and padding % 4 == 0
    length = (4 + len(body) + padding) // 4 - 1
    out = struct.pack("!BBH", 0x80 | (0x20 if padding else 0) | count, pt, length) + body
    if padding:
        out += b"\x00" * (padding - 1) + bytes([padding])
    return out


def report_block(ssrc, fraction, lost, highest, jitter, lsr, dlsr):
    return struct.pack("!IB", ssrc, fraction) + (lost & 0xFFFFFF).to_bytes(3, "big") + struct.pack("!IIII", highest, jitter, lsr, dlsr)


def sdes_chunk(ssrc, items):
    data = struct.pack("!I", ssrc) + b"".join(bytes([t, len(v)]) + v for t, v in items) + b"\x00"
    return data + b"\x00" * (-len(data) % 4)


def rtcp_seeds():
    block = report_block(0x0BADCAFE, 0x19, 5, 0x0001_0203, 42, 0xA1B2C3D4, 0x00010000)
    sr = rtcp(200, 1, struct.pack("!IIIIII", 0x5EED0001, 0xE5B3_2C00, 0x8000_0000, 160000, 1000, 160000) + block)
    rr = rtcp(201, 1, struct.pack("!I", 0x5EED0001) + block)
    sdes = rtcp(202, 2, sdes_chunk(0x5EED0001, [(1, b"agent@192.0.2.10"), (6, b"earshot")])
                + sdes_chunk(0x5EED0002, [(8, b"\x03abcprivate"), (2, b"Agent")]))
    bye = rtcp(203, 2, struct.pack("!II", 0x5EED0001, 0x5EED0002) + b"\x08call end" + b"\x00" * 3)
    app = rtcp(204, 3, struct.pack("!I", 0x5EED0001) + b"ERSH" + b"\x01\x02\x03\x04")
    nack = rtcp(205, 1, struct.pack("!IIHH", 0x5EED0001, 0x0BADCAFE, 0x0100, 0x0003))
    pli = rtcp(206, 1, struct.pack("!II", 0x5EED0001, 0x0BADCAFE))
    # RFC 3611: receiver reference time (BT 4), DLRR (BT 5), VoIP metrics (BT 7).
    rrt = struct.pack("!BBH", 4, 0, 2) + struct.pack("!II", 0xE5B3_2C00, 0x8000_0000)
    dlrr = struct.pack("!BBH", 5, 0, 3) + struct.pack("!III", 0x0BADCAFE, 0xA1B2C3D4, 0x00020000)
    voip = struct.pack("!BBH", 7, 0, 8) + struct.pack("!I", 0x0BADCAFE) + bytes(
        [12, 3, 1, 2]) + struct.pack("!HHHH", 40, 600, 150, 30) + bytes([127, 127, 20, 127, 85, 93, 41, 43]) \
        + bytes([0x3A, 0]) + struct.pack("!HHH", 40, 80, 120)
    xr = rtcp(207, 0, struct.pack("!I", 0x5EED0001) + rrt + dlrr + voip)
    unknown_xr_block = rtcp(207, 0, struct.pack("!I", 0x5EED0001) + struct.pack("!BBH", 42, 7, 1) + b"\x01\x02\x03\x04")

    write("FuzzRTCP", "ok-sender-report.rtcp", sr)
    write("FuzzRTCP", "ok-receiver-report-empty.rtcp", rtcp(201, 0, struct.pack("!I", 0x5EED0001)))
    write("FuzzRTCP", "ok-compound-sr-sdes-bye.rtcp", sr + sdes + rtcp(203, 1, struct.pack("!I", 0x5EED0001), padding=4))
    write("FuzzRTCP", "ok-compound-every-type.rtcp", rr + sdes + app + nack + xr + bye)
    write("FuzzRTCP", "ok-reduced-size-pli.rtcp", pli)
    write("FuzzRTCP", "ok-xr-voip-metrics.rtcp", rr + xr)
    write("FuzzRTCP", "ok-xr-unknown-block.rtcp", rr + unknown_xr_block)
    write("FuzzRTCP", "ok-rr-profile-extension.rtcp", rtcp(201, 1, struct.pack("!I", 0x5EED0001) + block + b"\xab\xcd\xef\x01"))
    write("FuzzRTCP", "bad-empty-after-rr.rtcp", rr + b"\x80\xca")
    write("FuzzRTCP", "bad-version-1.rtcp", b"\x41" + rr[1:])
    write("FuzzRTCP", "bad-length-beyond.rtcp", rr[:-4])
    write("FuzzRTCP", "bad-padding-not-last.rtcp", rtcp(201, 0, struct.pack("!I", 1), padding=4) + sdes)
    write("FuzzRTCP", "bad-padding-not-word.rtcp",
          struct.pack("!BBH", 0xA1, 201, 8) + struct.pack("!I", 0x5EED0001) + block + b"\x00\x00\x00\x03")
    write("FuzzRTCP", "bad-report-count.rtcp", b"\x82" + rr[1:])
    write("FuzzRTCP", "bad-sdes-unterminated.rtcp", rtcp(202, 1, struct.pack("!I", 1) + b"\x01\x02ab"))
    write("FuzzRTCP", "bad-bye-reason-overrun.rtcp", rtcp(203, 1, struct.pack("!I", 1) + b"\x09abc"))
    write("FuzzRTCP", "bad-xr-block-beyond.rtcp", rtcp(207, 0, struct.pack("!I", 1) + struct.pack("!BBH", 7, 0, 9)))


# --------------------------------------------------------------------------------------- pcap

def ipv4_udp(src, dst, sport, dport, payload, tos=0xB8, ident=1, frag=0, proto=17):
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    total = 20 + len(udp)
    header = struct.pack("!BBHHHBBH4s4s", 0x45, tos, total, ident, frag, 64, proto, 0, bytes(src), bytes(dst))
    checksum = 0
    for i in range(0, 20, 2):
        checksum += (header[i] << 8) | header[i + 1]
    while checksum >> 16:
        checksum = (checksum & 0xFFFF) + (checksum >> 16)
    header = header[:10] + struct.pack("!H", ~checksum & 0xFFFF) + header[12:]
    return header + udp


def ipv6_udp(src, dst, sport, dport, payload):
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    return struct.pack("!IHBB16s16s", 0x6B800000, len(udp), 17, 64, bytes(src), bytes(dst)) + udp


def ethernet(ip, ethertype=0x0800, vlan=None):
    head = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01"
    if vlan is not None:
        head += struct.pack("!HH", 0x8100, vlan)
    return head + struct.pack("!H", ethertype) + ip


A = [192, 0, 2, 10]
B = [192, 0, 2, 20]
A6 = [0x20, 0x01, 0x0D, 0xB8] + [0] * 11 + [0x10]
B6 = [0x20, 0x01, 0x0D, 0xB8] + [0] * 11 + [0x20]


def classic(link, frames, big_endian=False, nanoseconds=False, snaplen=262144):
    order = ">" if big_endian else "<"
    magic = 0xA1B23C4D if nanoseconds else 0xA1B2C3D4
    out = struct.pack(order + "IHHiIII", magic, 2, 4, 0, 0, snaplen, link)
    for i, (frame, original) in enumerate(frames):
        out += struct.pack(order + "IIII", 1700000000 + i, 20000 * i, len(frame), original or len(frame)) + frame
    return out


def block(order, kind, body):
    body += b"\x00" * (-len(body) % 4)
    length = 12 + len(body)
    return struct.pack(order + "II", kind, length) + body + struct.pack(order + "I", length)


def option(order, code, value):
    return struct.pack(order + "HH", code, len(value)) + value + b"\x00" * (-len(value) % 4)


def pcapng(frames, big_endian=False):
    o = ">" if big_endian else "<"
    out = block(o, 0x0A0D0D0A, struct.pack(o + "IHHq", 0x1A2B3C4D, 1, 0, -1)
                + option(o, 4, b"earshot make_seeds.py") + option(o, 0, b""))
    out += block(o, 1, struct.pack(o + "HHI", 1, 0, 262144) + option(o, 2, b"eth0") + option(o, 9, b"\x09") + option(o, 0, b""))
    out += block(o, 1, struct.pack(o + "HHI", 101, 0, 65535) + option(o, 14, struct.pack(o + "q", 0)) + option(o, 0, b""))
    for i, (interface, frame) in enumerate(frames):
        ts = 1700000000_000000_000 // 1000 + i * 20000
        out += block(o, 6, struct.pack(o + "IIIII", interface, ts >> 32, ts & 0xFFFFFFFF, len(frame), len(frame)) + frame
                     + b"\x00" * (-len(frame) % 4) + option(o, 1, b"seed") + option(o, 0, b""))
    # Name resolution and interface statistics blocks are skipped by their length.
    out += block(o, 4, struct.pack(o + "HH", 1, 16) + bytes(B) + b"rtp.example\x00" + struct.pack(o + "HH", 0, 0))
    out += block(o, 5, struct.pack(o + "III", 0, 0, 0))
    # A Simple Packet Block on interface 0.
    frame = ethernet(ipv4_udp(B, A, 5004, 49170, rtp(0, 2, 160, 0x5EED0002, b"\xff" * 8)))
    out += block(o, 3, struct.pack(o + "I", len(frame)) + frame)
    return out


def pcap_seeds():
    rtp_a = [rtp(0, 1000 + i, 160 * i, 0x5EED0001, b"\xff" * 160, marker=(i == 0)) for i in range(3)]
    sr = rtcp(200, 0, struct.pack("!IIIIII", 0x5EED0001, 0xE5B3_2C00, 0, 480, 3, 480))
    invite = sip("""
OPTIONS sip:bob@192.0.2.20 SIP/2.0
Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK-pcap
Max-Forwards: 70
To: <sip:bob@192.0.2.20>
From: <sip:alice@192.0.2.10>;tag=p
Call-ID: pcap-1
CSeq: 1 OPTIONS
""")
    frames = [(ethernet(ipv4_udp(A, B, 49170, 5004, p)), None) for p in rtp_a]
    frames.append((ethernet(ipv4_udp(A, B, 49171, 5005, sr)), None))
    frames.append((ethernet(ipv4_udp(A, B, 5060, 5060, invite)), None))
    frames.append((ethernet(ipv4_udp(A, B, 49170, 5004, rtp_a[0]), vlan=100), None))
    frames.append((ethernet(ipv4_udp(A, B, 1, 2, b"", proto=6)[:20] + b"\x00" * 20), None))  # TCP
    frames.append((ethernet(ipv4_udp(A, B, 49170, 5004, rtp_a[1], frag=0x2000)), None))  # first fragment
    frames.append((ethernet(b"\x00" * 28, ethertype=0x0806), None))  # ARP
    cut = ethernet(ipv4_udp(A, B, 49170, 5004, rtp_a[2]))
    frames.append((cut[:60], len(cut)))  # snapped short
    write("FuzzPcap", "ok-ethernet-udp-mix.pcap", classic(1, frames))

    v6 = [(ethernet(ipv6_udp(A6, B6, 40000, 40002, p), ethertype=0x86DD), None) for p in rtp_a[:2]]
    write("FuzzPcap", "ok-ipv6-big-endian-ns.pcap", classic(1, v6, big_endian=True, nanoseconds=True))
    write("FuzzPcap", "ok-raw-ip.pcap", classic(101, [(ipv4_udp(A, B, 49170, 5004, p), None) for p in rtp_a]))
    write("FuzzPcap", "ok-loopback-null.pcap",
          classic(0, [(struct.pack("<I", 2) + ipv4_udp(A, A, 49170, 5004, rtp_a[0]), None),
                      (struct.pack("<I", 30) + ipv6_udp(A6, A6, 40000, 40002, rtp_a[1]), None)]))
    sll = struct.pack("!HHH8sH", 0, 772, 6, b"\x00" * 8, 0x0800)
    write("FuzzPcap", "ok-linux-sll.pcap", classic(113, [(sll + ipv4_udp(A, B, 49170, 5004, p), None) for p in rtp_a]))
    sll2 = struct.pack("!HHIHBB8s", 0x0800, 0, 1, 772, 0, 6, b"\x00" * 8)
    write("FuzzPcap", "ok-linux-sll2.pcap", classic(276, [(sll2 + ipv4_udp(A, B, 49170, 5004, rtp_a[0]), None)]))
    ng_frames = [(0, ethernet(ipv4_udp(A, B, 49170, 5004, p))) for p in rtp_a] + [(1, ipv4_udp(B, A, 5005, 49171, sr))]
    write("FuzzPcap", "ok-pcapng.pcapng", pcapng(ng_frames))
    write("FuzzPcap", "ok-pcapng-big-endian.pcapng", pcapng(ng_frames[:2], big_endian=True))
    whole = classic(1, frames[:2])
    write("FuzzPcap", "truncated-in-record.pcap", whole[:-30])
    write("FuzzPcap", "bad-magic.pcap", b"\x00\x01\x02\x03" + whole[4:])
    write("FuzzPcap", "bad-truncated-file-header.pcap", whole[:20])
    write("FuzzPcap", "bad-record-too-long.pcap", whole[:24] + struct.pack("<IIII", 0, 0, 0x7FFFFFFF, 0x7FFFFFFF) + whole[40:])


def main():
    if len(sys.argv) > 1:
        print(__doc__)
        return
    sip_seeds()
    sdp_seeds()
    rtp_seeds()
    rtcp_seeds()
    pcap_seeds()
    for target in sorted(os.listdir(CORPUS)):
        print(target, len(os.listdir(os.path.join(CORPUS, target))), "files")


if __name__ == "__main__":
    main()
