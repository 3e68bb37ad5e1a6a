/// Which extended sequence numbers have arrived, for a bounded window of the most recent
/// ones: a ring of bits over `[low, high]` with `high - low < capacity`.
///
/// A sequence number leaves the window when a higher one pushes it out; at that moment its
/// fate becomes final (received if its bit is set, lost otherwise) and is appended, in
/// sequence order, to a `LossRuns`. Memory is `capacity / 8` bytes whatever the call length.
struct SequenceArrivalWindow: Sendable, Hashable {
    enum Insertion: Equatable {
        /// First arrival of this sequence number.
        case new
        /// The sequence number had already arrived.
        case duplicate
        /// Older than the window: its fate was already finalised, nothing was recorded.
        case tooOld
    }

    private var words: [UInt64]
    private let indexMask: Int64
    /// Lowest sequence number whose fate is not final yet.
    private(set) var low: Int64
    /// Highest sequence number that arrived (`low - 1` while the window is empty).
    private(set) var high: Int64
    /// Whether some sequence number has left the window since the last reset; the window
    /// may only grow downwards (a packet older than the first one) before that.
    private(set) var hasFinalised = false

    /// - Parameter capacity: rounded up to a power of two, at least 64.
    init(capacity: Int, start: Int64 = 0) {
        var size = 64
        while size < capacity { size <<= 1 }
        words = Array(repeating: 0, count: size / 64)
        indexMask = Int64(size - 1)
        low = start
        high = start - 1
    }

    var capacity: Int { words.count * 64 }
    var isEmpty: Bool { high < low }

    func contains(_ sequence: Int64) -> Bool {
        sequence >= low && sequence <= high && bit(sequence)
    }

    /// Marks `sequence` as arrived. Sequence numbers that a new highest one pushes out of the
    /// window are finalised into `runs` first.
    mutating func insert(_ sequence: Int64, finalisingInto runs: inout LossRuns) -> Insertion {
        if isEmpty {
            low = sequence
            high = sequence
            setBit(sequence)
            return .new
        }
        if sequence > high {
            let newLow = sequence - Int64(capacity) + 1
            if newLow > low { finalise(below: newLow, into: &runs) }
            high = sequence
            setBit(sequence)
            return .new
        }
        if sequence < low {
            // Growing downwards keeps every bit in [sequence, low) clear: their ring slots
            // belong to values above `high`, which are never set.
            guard !hasFinalised, high - sequence < Int64(capacity) else { return .tooOld }
            low = sequence
            setBit(sequence)
            return .new
        }
        if bit(sequence) { return .duplicate }
        setBit(sequence)
        return .new
    }

    /// Finalises everything in the window and empties it; the next insertion starts afresh.
    mutating func flush(into runs: inout LossRuns) {
        if !isEmpty { finalise(below: high + 1, into: &runs) }
        low = high + 1
        hasFinalised = false
    }

    /// Appends the fate the window's sequence numbers would have if none of the missing ones
    /// arrived any more, without finalising anything.
    func appendProvisional(to runs: inout LossRuns) {
        guard !isEmpty else { return }
        var sequence = low
        while sequence <= high {
            let fate = bit(sequence)
            var end = sequence + 1
            while end <= high, bit(end) == fate { end += 1 }
            runs.record(received: fate, count: Int(end - sequence))
            sequence = end
        }
    }

    /// Moves `low` up to `newLow`, recording the fate of each sequence number passed.
    private mutating func finalise(below newLow: Int64, into runs: inout LossRuns) {
        let lastInWindow = min(newLow - 1, high)
        var sequence = low
        while sequence <= lastInWindow {
            let fate = bit(sequence)
            var end = sequence
            while end <= lastInWindow, bit(end) == fate {
                clearBit(end)
                end += 1
            }
            runs.record(received: fate, count: Int(end - sequence))
            sequence = end
        }
        // A jump beyond the whole window: the sequence numbers between the old highest and
        // the new window's start never arrived.
        if newLow - 1 > high { runs.record(received: false, count: Int(newLow - 1 - high)) }
        low = newLow
        hasFinalised = true
    }

    private func bit(_ sequence: Int64) -> Bool {
        let index = Int(sequence & indexMask)
        return words[index >> 6] & (1 << UInt64(index & 63)) != 0
    }

    private mutating func setBit(_ sequence: Int64) {
        let index = Int(sequence & indexMask)
        words[index >> 6] |= 1 << UInt64(index & 63)
    }

    private mutating func clearBit(_ sequence: Int64) {
        let index = Int(sequence & indexMask)
        words[index >> 6] &= ~(1 << UInt64(index & 63))
    }
}
