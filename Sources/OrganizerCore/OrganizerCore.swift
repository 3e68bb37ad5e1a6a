// Planner, run merging and classification, report aggregation (issue 4). Pure: no clock, no I/O.
import EarshotWire

/// A unit of a suite: an ordered pair, or one member (callee nil).
public struct UnitKey: Sendable, Hashable {
    public var caller: String
    public var callee: String?

    public init(caller: String, callee: String?) {
        self.caller = caller
        self.callee = callee
    }
}
