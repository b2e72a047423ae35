/// How the columns of another system's CSV export (a SCADA history) become essd samples: the
/// typed, validated content of an import map file (`essctl import csv FILE --map MAPFILE`).
///
/// Owns the description only. Reading the TOML file and checking groups and signals against
/// the site is `ESSConfig`'s job (`ImportMapReader`); turning rows into samples is
/// `HistoryRowMapper`'s; storing them is `ESSStore`'s `HistoryImporter`.
public struct HistoryImportMap: Sendable, Hashable {
    /// A column of the file: by its header text, or by its 1-based position.
    public enum ColumnReference: Sendable, Hashable, CustomStringConvertible {
        case name(String)
        case number(Int)

        public var description: String {
            switch self {
            case .name(let name): "\"\(name)\""
            case .number(let n): "column \(n)"
            }
        }
    }

    /// How the time column is written.
    public enum TimeFormat: String, Sendable, Hashable, CaseIterable {
        /// ISO 8601 / RFC 3339 with a UTC offset or `Z`: `2025-01-01T08:00:00+08:00`.
        case rfc3339
        /// Local wall time without an offset (`2025-01-01 08:00:00`, `2025/01/01 08:00`), read in
        /// the site's time zone; an explicit offset, when present, is honoured.
        case local
        /// Seconds since 1970-01-01T00:00:00Z (decimals allowed).
        case epochSeconds = "epoch_s"
        /// Milliseconds since 1970-01-01T00:00:00Z.
        case epochMilliseconds = "epoch_ms"
    }

    /// Which end of the interval a row describes its time column marks.
    public enum StampedAt: String, Sendable, Hashable, CaseIterable {
        /// A row stamped 10:00 describes 10:00 onwards (its sample is taken at 10:00). essd's own way.
        case start
        /// A row stamped 10:01 describes the interval that ends then (10:00–10:01 for 1-min rows):
        /// its sample is taken at the stamp less the row interval.
        case end
    }

    /// One imported column: which group (a device id, or "site") and signal it feeds.
    public struct Column: Sendable, Hashable {
        public var column: ColumnReference
        public var group: String
        public var signal: String
        /// Multiplies every value (W → kW: 0.001).
        public var scale: Double
        /// 1-based line of the column's table in the map file, for messages.
        public var line: Int

        public init(column: ColumnReference, group: String, signal: String, scale: Double = 1, line: Int = 0) {
            self.column = column
            self.group = group
            self.signal = signal
            self.scale = scale
            self.line = line
        }
    }

    /// Field separator (one ASCII byte: `,`, `;`, tab, `|`).
    public var delimiter: UInt8
    /// 1-based line of the header; 0 when the file has none (columns are then numbers).
    /// Lines before the header are skipped; data starts on the line after it.
    public var headerLine: Int
    public var timeColumn: ColumnReference
    public var timeFormat: TimeFormat
    /// Whether a row's time marks the start (default) or the end of the interval it describes.
    public var stampedAt: StampedAt
    public var columns: [Column]
    /// Header columns present in the file on purpose and not imported (no warning for them).
    public var ignoredColumns: [String]
    /// Field texts that mean "no value in this row" (the signal is not sampled then: its last
    /// value holds for its heartbeat, as for a point not read in a scan). Default: empty field.
    public var missingValues: Set<String>
    /// Spacing of the export's rows, for heartbeats (3 × this, as essd uses 3 × the poll
    /// interval); nil: the most common spacing between rows.
    public var sampleIntervalMS: Int64?
    /// The decimal mark of the numbers: `.` (default) or `,` (European exports, "12,5"; the
    /// delimiter must then be another character, usually `;`).
    public var decimalSeparator: UInt8

    public init(
        delimiter: UInt8 = UInt8(ascii: ","), headerLine: Int = 1, timeColumn: ColumnReference,
        timeFormat: TimeFormat, columns: [Column], ignoredColumns: [String] = [], missingValues: Set<String> = [""],
        sampleIntervalMS: Int64? = nil, decimalSeparator: UInt8 = UInt8(ascii: "."), stampedAt: StampedAt = .start
    ) {
        self.stampedAt = stampedAt
        self.decimalSeparator = decimalSeparator
        self.delimiter = delimiter
        self.headerLine = headerLine
        self.timeColumn = timeColumn
        self.timeFormat = timeFormat
        self.columns = columns
        self.ignoredColumns = ignoredColumns
        self.missingValues = missingValues
        self.sampleIntervalMS = sampleIntervalMS
    }

    /// How much earlier than its stamp a row's sample is taken, for rows `rowIntervalMS` apart:
    /// 0 when stamped at the start, the row interval when stamped at the end.
    public func stampShiftMS(rowIntervalMS: Int64) -> Int64 {
        stampedAt == .end ? rowIntervalMS : 0
    }

    /// The groups the map feeds, in first-mention order.
    public var groups: [String] {
        var seen = Set<String>()
        return columns.map(\.group).filter { seen.insert($0).inserted }
    }

    /// Whether the site group is fed by columns of its own (rather than derived from devices).
    public var feedsSiteDirectly: Bool { columns.contains { $0.group == "site" } }
}
