import Foundation
import ESSStore

/// Human formatting for tables: durations, sizes, times, aligned columns.
enum Format {
    static func bytes(_ n: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(n)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(n) B" : String(format: "%.1f %@", value, units[unit])
    }

    static func duration(ms: Int64) -> String {
        let seconds = ms / 1000
        if seconds >= 365 * 86400 && seconds % (365 * 86400) == 0 { return "\(seconds / (365 * 86400))y" }
        if seconds >= 86400 && seconds % 86400 == 0 { return "\(seconds / 86400)d" }
        if seconds >= 86400 { return String(format: "%.1fd", Double(seconds) / 86400) }
        if seconds >= 3600 && seconds % 3600 == 0 { return "\(seconds / 3600)h" }
        if seconds >= 3600 { return String(format: "%.1fh", Double(seconds) / 3600) }
        if seconds >= 60 && seconds % 60 == 0 { return "\(seconds / 60)m" }
        return "\(seconds)s"
    }

    /// One line for an event of the store's log (`essctl store health`).
    static func event(_ event: StoreEvent) -> String {
        switch event {
        case .stopped(let at, let clean):
            return "\(utc(ms: at)) essd stopped\(clean ? "" : " (not cleanly: at its newest raw row)")"
        case .quarantined(let q):
            let rows = q.rows.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value.firstSequence)...\($0.value.lastSequence)" }
            return "\(utc(ms: q.notedMS)) quarantined rows stored with times \(utc(ms: q.fromMS)) ... \(utc(ms: q.toMS)) (\(q.reason)): \(rows.isEmpty ? "none" : rows.joined(separator: ", "))"
        case .hintRepaired(let hint, let after, let noted):
            return "\(utc(ms: noted)) \(hint); continued after sequence \(after)"
        case .started(let at):
            return "\(utc(ms: at)) essd started"
        case .reconfigured(let at, let groups):
            return "\(utc(ms: at)) configuration reloaded (groups: \(groups.joined(separator: ", ")))"
        case .clockStepped(let at, let step):
            return "\(utc(ms: at)) wall clock stepped by \(step) ms"
        case .imported(let i):
            return "\(utc(ms: i.notedMS)) imported \(i.source.isEmpty ? "history" : i.source) into \(i.groups.joined(separator: ", ")): \(utc(ms: i.fromMS)) ... \(utc(ms: i.toMS)), rows every \(duration(ms: i.intervalMS))"
        }
    }

    static func utc(ms: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        return formatter.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }

    /// Left-aligned first column, right-aligned others, two spaces between columns.
    static func table(header: [String], rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { c in all.map { $0[c].count }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { c, cell in
                let pad = String(repeating: " ", count: widths[c] - cell.count)
                return c == 0 ? cell + pad : pad + cell
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
