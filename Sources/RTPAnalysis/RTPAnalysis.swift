// RTPAnalysis — RTP streams in a capture: which UDP datagrams are RTP, RTCP or neither, and
// per stream loss, duplicates, reordering, jitter, bursts, an emulated jitter buffer, the RTCP
// round trip and the E-model score. A pure target (DESIGN §1): datagrams and their capture
// times come in as arguments; no I/O, no clock.
//
//   RTPAnalyzer          add(_ datagram) in capture order, then report(captureTally:)
//   StreamDetectionRule  when an RTP-shaped flow counts as a stream (random UDP must not)
//   PayloadTypeMap       clock rates and names for dynamic payload types (`--clock PT=RATE`)
//   RoundTripEstimate    the RTT from RTCP SR/RR report blocks, measured on the capture's clock
//   RTPStreamReport      one stream's numbers, Encodable under DESIGN §2 names
//
// The rules, the JSON fields and where the numbers differ from tshark's `-z rtp,streams`
// are documented in docs/pcap-analyze.md.
