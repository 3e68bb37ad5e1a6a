/// A typical INVITE as a PBX or SBC sends it: two Vias, Record-Route, the usual dialog headers,
/// Allow/Supported, and a G.711 + telephone-event SDP offer — about 900 bytes, the size the
/// issue asks the parse rate for.
public enum SIPFixtures {
    public static let sdpOffer = """
        v=0\r
        o=alice 2890844526 2890844526 IN IP4 192.0.2.10\r
        s=-\r
        c=IN IP4 192.0.2.10\r
        t=0 0\r
        m=audio 49170 RTP/AVP 0 8 101\r
        a=rtpmap:0 PCMU/8000\r
        a=rtpmap:8 PCMA/8000\r
        a=rtpmap:101 telephone-event/8000\r
        a=fmtp:101 0-16\r
        a=ptime:20\r
        a=maxptime:150\r
        a=sendrecv\r

        """

    /// The INVITE with `index` woven into Call-ID, branch and tag, so that a batch of them is
    /// not one message repeated (and a dissector sees distinct dialogs).
    public static func invite(index: Int = 0) -> String {
        let body = sdpOffer
        return """
            INVITE sip:+15551234567@pbx.example.com;user=phone SIP/2.0\r
            Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds\(index);rport\r
            Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bKnashds8\(index);received=198.51.100.7\r
            Max-Forwards: 69\r
            Record-Route: <sip:198.51.100.7;lr>\r
            To: <sip:+15551234567@pbx.example.com;user=phone>\r
            From: "Alice Smith" <sip:alice@example.com>;tag=1928301774\(index)\r
            Call-ID: a84b4c76e66710\(index)@192.0.2.10\r
            CSeq: 314159 INVITE\r
            Contact: <sip:alice@192.0.2.10:5060;transport=udp>\r
            Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, PRACK, UPDATE, INFO, REFER, NOTIFY\r
            Supported: 100rel, timer, replaces\r
            Session-Expires: 1800;refresher=uac\r
            User-Agent: Earshot-Bench/1.0\r
            Content-Type: application/sdp\r
            Content-Length: \(body.utf8.count)\r
            \r
            \(body)
            """
    }

    public static let typicalInvite: [UInt8] = Array(invite().utf8)

    /// `count` distinct INVITEs (see `invite(index:)`), the same ones `inviteCapture` carries.
    public static func invites(count: Int) -> [[UInt8]] {
        (0..<count).map { Array(invite(index: $0).utf8) }
    }
}
