import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A plain-text table: upper-case titles, columns two spaces apart, no trailing spaces.
/// Given a width (the terminal's), it shrinks the widest shrinkable columns until the table
/// fits, and cuts long cells with "…".
struct TextTable: Sendable, Equatable {
    enum Alignment: Sendable, Equatable { case left, right }

    struct Column: Sendable, Equatable {
        var title: String
        var alignment: Alignment
        /// May be cut to fit the width (ids and numbers are not: a cut id is useless).
        var shrinkable: Bool
        /// Never cut below this many characters.
        var minimumWidth: Int

        init(_ title: String, _ alignment: Alignment = .left, shrinkable: Bool = false, minimumWidth: Int = 5) {
            self.title = title
            self.alignment = alignment
            self.shrinkable = shrinkable
            self.minimumWidth = minimumWidth
        }
    }

    var columns: [Column]
    var rows: [[String]] = []
    /// Titles in capitals (off when titles are names, as in the report's matrix).
    var uppercaseTitles = true

    init(_ columns: [Column], rows: [[String]] = [], uppercaseTitles: Bool = true) {
        self.columns = columns
        self.rows = rows
        self.uppercaseTitles = uppercaseTitles
    }

    mutating func add(_ row: [String]) { rows.append(row) }

    static let gap = 2

    /// The column widths that fit `width` (nil: no limit).
    func widths(fitting width: Int?) -> [Int] {
        var widths = columns.map(\.title.count)
        for row in rows {
            for (index, cell) in row.prefix(columns.count).enumerated() { widths[index] = max(widths[index], cell.count) }
        }
        guard let width else { return widths }
        var excess = widths.reduce(0, +) + Self.gap * max(0, columns.count - 1) - width
        while excess > 0 {
            // The widest column that may still give up a character.
            var best: Int?
            for index in columns.indices where columns[index].shrinkable && widths[index] > columns[index].minimumWidth {
                if best == nil || widths[index] > widths[best!] { best = index }
            }
            guard let index = best else { break }
            widths[index] -= 1
            excess -= 1
        }
        return widths
    }

    func render(width: Int? = nil) -> String {
        let widths = widths(fitting: width)
        func line(_ cells: [String]) -> String {
            var parts: [String] = []
            for index in columns.indices {
                let cell = Self.truncate(index < cells.count ? cells[index] : "", to: widths[index])
                let padding = String(repeating: " ", count: widths[index] - cell.count)
                parts.append(columns[index].alignment == .left ? cell + padding : padding + cell)
            }
            return Self.trimTrailing(parts.joined(separator: String(repeating: " ", count: Self.gap)))
        }
        return ([line(columns.map { uppercaseTitles ? $0.title.uppercased() : $0.title })] + rows.map(line)).joined(separator: "\n")
    }

    /// `text` cut to `width` characters, the last one "…" when cut.
    static func truncate(_ text: String, to width: Int) -> String {
        guard text.count > width else { return text }
        guard width > 1 else { return width == 1 ? "…" : "" }
        return String(text.prefix(width - 1)) + "…"
    }

    static func trimTrailing(_ text: String) -> String {
        var out = text
        while out.last == " " { out.removeLast() }
        return out
    }
}

/// RFC 4180 CSV: a field is quoted when it holds a comma, a quote, a line break or
/// leading/trailing spaces; quotes inside are doubled. Lines end with "\n".
enum CSV {
    static func field(_ text: String) -> String {
        let needsQuotes = text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
            || text.first == " " || text.last == " "
        return needsQuotes ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
    }

    static func render(header: [String], rows: [[String]]) -> String {
        ([header] + rows).map { $0.map(field).joined(separator: ",") }.joined(separator: "\n")
    }
}

/// What the process writes to: is it a terminal, how wide.
enum Terminal {
    static func isTTY(_ descriptor: Int32) -> Bool { isatty(descriptor) == 1 }

    /// The width of the terminal on `descriptor` (TIOCGWINSZ), else `$COLUMNS`, else nil
    /// (a pipe or file: tables are not cut).
    static func columns(_ descriptor: Int32 = STDOUT_FILENO,
                        environment: [String: String] = ProcessInfo.processInfo.environment) -> Int? {
        if isTTY(descriptor) {
            var size = winsize()
            if ioctl(descriptor, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        }
        if let text = environment["COLUMNS"], let value = Int(text), value > 0 { return value }
        return nil
    }
}
