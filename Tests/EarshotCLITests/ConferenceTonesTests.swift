import OrganizerCore
import RTPCore
import Testing

/// OrganizerCore cannot import RTPCore (pure organizer logic, no media code), so the planner
/// keeps its own list of the identifying tones it hands out; it must stay the one the agents'
/// test signal and detectors use.
@Test func theOrganizersConferenceTonesAreTheIdentifyingTones() {
    #expect(Planner.conferenceTones == IdentifyingTone.frequencies)
    #expect((-3..<40).map { Planner.conferenceTone(slot: $0) } == (-3..<40).map { IdentifyingTone.frequency(slot: $0) })
}
