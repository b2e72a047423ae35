import Foundation
public import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// essd's swift-log `LogHandler`: journal lines (`<N>` priority prefix, no timestamp) when stderr
/// is connected to journald, readable timestamped lines on a terminal or in a file. The line
/// formats are `LogLineFormat`'s; this type owns choosing one (`Format.detect`), merging metadata,
/// and writing each record to stderr with one `write(2)` under a process-wide lock, so records of
/// different threads never interleave.
///
/// Only executables bootstrap logging (`JournalLogHandler.bootstrap(level:)`); libraries take a `Logger`.
public struct JournalLogHandler: LogHandler {
    /// Which line format to write.
    public enum Format: Sendable, Hashable {
        /// `<6>essd: message key=value`, for journald.
        case journal
        /// `2025-06-30T04:00:00.123Z info     essd: message key=value`, for people.
        case terminal

        /// `.journal` when `JOURNAL_STREAM` (`DEVICE:INODE`, set by systemd for services whose
        /// stdout/stderr go to the journal) names the file stderr is open on, as `man 7
        /// systemd.exec` recommends checking; `.terminal` otherwise (also when stderr was
        /// redirected elsewhere, e.g. `essd 2>file` from a shell inside a service).
        public static func detect(journalStream: String?, standardError: (device: UInt64, inode: UInt64)?) -> Format {
            guard let journalStream, let standardError else { return .terminal }
            let parts = journalStream.split(separator: ":")
            guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else {
                return .terminal
            }
            return device == standardError.device && inode == standardError.inode ? .journal : .terminal
        }

        /// `detect` with this process' `JOURNAL_STREAM` and `fstat(2)` of stderr.
        public static func detect(environment: [String: String] = ProcessInfo.processInfo.environment) -> Format {
            var info = stat()
            let identity: (UInt64, UInt64)? =
                fstat(STDERR_FILENO, &info) == 0 ? (UInt64(info.st_dev), UInt64(info.st_ino)) : nil
            return detect(journalStream: environment["JOURNAL_STREAM"], standardError: identity)
        }
    }

    /// Where finished lines go: stderr by default, a closure in tests.
    public struct Output: Sendable {
        let write: @Sendable (String) -> Void
        public init(_ write: @escaping @Sendable (String) -> Void) { self.write = write }
        /// Standard error, one `write(2)` per line (retried on EINTR and partial writes) under a lock.
        public static let standardError = Output { StandardErrorWriter.write($0) }
    }

    public let label: String
    public let format: Format
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let output: Output

    public init(
        label: String, format: Format, logLevel: Logger.Level = .info,
        metadataProvider: Logger.MetadataProvider? = nil, output: Output = .standardError
    ) {
        self.label = label
        self.format = format
        self.logLevel = logLevel
        self.metadataProvider = metadataProvider
        self.output = output
    }

    /// Bootstraps swift-log with this handler, detecting the format once. Call it once, first
    /// thing in an executable's `run()`.
    public static func bootstrap(
        level: Logger.Level, environment: [String: String] = ProcessInfo.processInfo.environment
    ) {
        let format = Format.detect(environment: environment)
        LoggingSystem.bootstrap { label in
            JournalLogHandler(label: label, format: format, logLevel: level)
        }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        output.write(line(for: event, epochMS: StandardErrorWriter.nowMS()))
    }

    /// The line `log(event:)` writes for `event` at `epochMS` (metadata: handler, then provider,
    /// then the event's own, later ones winning).
    public func line(for event: LogEvent, epochMS: Int64) -> String {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let own = event.metadata { merged.merge(own) { $1 } }
        switch format {
        case .journal:
            return LogLineFormat.journalLine(
                level: event.level, label: label, message: "\(event.message)", metadata: merged)
        case .terminal:
            return LogLineFormat.terminalLine(
                epochMS: epochMS, level: event.level, label: label, message: "\(event.message)", metadata: merged)
        }
    }
}

/// Writes whole lines to file descriptor 2. One lock for the process: a line is written by one
/// `write(2)` (more only if the kernel takes part of it) before the next line starts.
enum StandardErrorWriter {
    private static let lock = Mutex<Void>(())

    static func write(_ line: String) {
        var bytes = Array(line.utf8)
        lock.withLock { _ in
            bytes.withUnsafeMutableBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    let written = writeStandardError(buffer.baseAddress! + offset, buffer.count - offset)
                    if written > 0 {
                        offset += written
                    } else if written < 0 && errno == EINTR {
                        continue
                    } else {
                        return  // EPIPE, EBADF, ...: nowhere left to log to.
                    }
                }
            }
        }
    }

    /// CLOCK_REALTIME in milliseconds since the Unix epoch.
    static func nowMS() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }
}

/// `write(2)` on fd 2 (a free function, so the C name is not shadowed by `StandardErrorWriter.write`).
private func writeStandardError(_ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    write(STDERR_FILENO, bytes, count)
}
