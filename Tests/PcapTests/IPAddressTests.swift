import Pcap
import Testing

@Suite struct IPAddressTests {
    @Test(arguments: [
        // RFC 5952 §4: one canonical form.
        ("2001:db8:0:0:0:0:2:1", "2001:db8::2:1"),
        ("2001:0db8::0001", "2001:db8::1"),                        // §4.1 leading zeros
        ("2001:db8::0:1", "2001:db8::1"),                          // §4.2.1 shorten as much as possible
        ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),          // §4.2.2 no :: for one zero group
        ("2001:0:0:1:0:0:0:1", "2001:0:0:1::1"),                   // §4.2.3 the longest run
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),             // §4.2.3 the first of equal runs
        ("2001:DB8::ABCD:EF", "2001:db8::abcd:ef"),                // §4.3 lower case
        ("0:0:0:0:0:0:0:0", "::"),
        ("0:0:0:0:0:0:0:1", "::1"),
        ("1:0:0:0:0:0:0:0", "1::"),
        ("fe80::1:2:3:4", "fe80::1:2:3:4"),
        ("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"),
        ("::ffff:192.0.2.33", "::ffff:192.0.2.33"),                // §5 IPv4-mapped in mixed notation
        ("0:0:0:0:0:ffff:c000:221", "::ffff:192.0.2.33"),
        ("64:ff9b::192.0.2.33", "64:ff9b::c000:221"),              // only ::ffff:0:0/96 is written mixed
    ])
    func ipv6CanonicalText(input: String, canonical: String) throws {
        let address = try #require(IPv6Address(input))
        #expect(address.description == canonical)
        #expect(IPv6Address(canonical) == address)
    }

    @Test(arguments: ["", ":", ":::", "1::2::3", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7::8", "12345::", "g::",
                      "1:2:3:4:5:6:7", ":1::", "1::2:", "::1.2.3", "::1.2.3.256", "1.2.3.4::", "fe80::1%eth0"])
    func invalidIPv6Text(input: String) {
        #expect(IPv6Address(input) == nil)
    }

    @Test func ipv6FromBytesAndGroups() {
        let bytes: [UInt8] = [0x20, 0x01, 0x0D, 0xB8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01]
        let address = IPv6Address(bytes: bytes[...])
        #expect(address == IPv6Address(groups: [0x2001, 0xDB8, 0, 0, 0, 0, 0, 1]))
        #expect(address.bytes == bytes)
        #expect(address.groups == [0x2001, 0xDB8, 0, 0, 0, 0, 0, 1])
        #expect(IPv6Address.loopback.description == "::1")
    }

    @Test func ipv4Text() throws {
        #expect(IPv4Address(192, 0, 2, 1).description == "192.0.2.1")
        #expect(IPv4Address("10.20.30.40") == IPv4Address(0x0A14_1E28))
        #expect(IPv4Address("255.255.255.255")?.value == .max)
        #expect(IPv4Address("0.0.0.0")?.value == 0)
        for bad in ["", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1..2.3", "a.b.c.d", " 1.2.3.4", "1.2.3.-4"] {
            #expect(IPv4Address(bad) == nil, "\(bad)")
        }
        #expect(IPv4Address(bytes: [127, 0, 0, 1][...]) == .loopback)
    }

    @Test func eitherFamilyAndEndpoints() {
        #expect(IPAddress("192.0.2.1") == .v4(IPv4Address(192, 0, 2, 1)))
        #expect(IPAddress("2001:db8::1") == .v6(IPv6Address(high: 0x2001_0DB8_0000_0000, low: 1)))
        #expect(IPAddress("example.com") == nil)
        #expect(IPEndpoint(IPAddress("192.0.2.1")!, 5004).description == "192.0.2.1:5004")
        #expect(IPEndpoint(IPAddress("2001:db8::1")!, 5004).description == "[2001:db8::1]:5004")
        #expect(IPAddress("10.0.0.1")! < IPAddress("::1")!)
    }
}
