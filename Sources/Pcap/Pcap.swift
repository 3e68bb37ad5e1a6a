// Pcap — capture files in, UDP datagrams out. A pure target (DESIGN §1): no I/O, no clock.
//
// Reading (the caller owns the file and feeds bytes):
//
//   CaptureReader       classic pcap (both byte orders, µs/ns magic) and pcapng (SHB, IDB with
//                       if_tsresol/if_tsoffset, EPB, SPB, OPB; other blocks skipped by length),
//                       incremental: append(_:) / next() / finish(), constant memory.
//   PacketDecoder       link layer (Ethernet + VLAN tags, Linux cooked v1/v2, raw IP, BSD null,
//                       OpenBSD loop) → IPv4 (options, fragments set aside) / IPv6 (extension
//                       headers) → UDP; anything else becomes a SetAsideReason.
//   UDPDatagramReader   both, with a CaptureTally of everything set aside.
//
// Writing synthetic captures (tests and benchmarks):
//
//   PacketBuilder       IPv4/IPv6 + UDP with correct checksums, behind any supported link header.
//   PcapWriter          classic pcap, µs or ns, either byte order, honouring the snap length.
//   PcapNGWriter        SHB + IDBs + EPBs.
//
// Decisions where the formats leave a choice:
// * A record the input ends inside is a clean end, reported as CaptureReader.truncatedRecord
//   (and CaptureTally.truncatedRecordsAtEnd); structural faults are PcapError with the offset.
// * IP fragments are counted, never reassembled; checksums are never verified on reading
//   (offload makes captured values unreliable); timestamps finer than 1 ns are truncated.
