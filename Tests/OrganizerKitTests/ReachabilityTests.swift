@testable import OrganizerKit
import Testing

@Suite struct ReachabilityTests {
    @Test func hostOfSIPURIs() {
        #expect(Reachability.host(ofSIPURI: "sip:earshot@10.201.2.2:5060;transport=udp") == "10.201.2.2")
        #expect(Reachability.host(ofSIPURI: "sip:earshot@[::1]:5060;transport=tcp") == "::1")
        #expect(Reachability.host(ofSIPURI: "sip:pbx.example.com") == "pbx.example.com")
        #expect(Reachability.host(ofSIPURI: "sip:[::1") == nil)
    }

    /// An agent behind NAT: its contact is its private address, its organizer connection
    /// comes from the NAT's public one.
    @Test func aContactOtherThanTheSourceIsUnreachable() {
        let why = Reachability.directCallProblem(contact: "sip:earshot@192.168.203.2:5060;transport=udp", seenFrom: "10.201.0.1")
        #expect(why == "is behind NAT or not routable: its SIP contact is 192.168.203.2 but it reaches the organizer from 10.201.0.1; call it through a registrar/proxy (suite `via`) or advertise a reachable address")
    }

    @Test func sameAddressOrUnknownIsReachable() {
        #expect(Reachability.directCallProblem(contact: "sip:earshot@10.201.2.2:5060", seenFrom: "10.201.2.2") == nil)
        #expect(Reachability.directCallProblem(contact: "sip:earshot@10.201.2.2:5060", seenFrom: "::ffff:10.201.2.2") == nil)
        #expect(Reachability.directCallProblem(contact: "sip:earshot@10.201.2.2:5060", seenFrom: nil) == nil)
        // A contact by name is not judged (DNS is not the organizer's view).
        #expect(Reachability.directCallProblem(contact: "sip:earshot@agent-b.example:5060", seenFrom: "10.0.0.9") == nil)
    }
}
