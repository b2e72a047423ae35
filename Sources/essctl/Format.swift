import Foundation

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
