import Foundation

/// Whole lines to stdout and stderr, one writer at a time (ready line, state lines and the
/// exit summary come from different threads).
enum Output {
    private static let lock = NSLock()

    static func line(_ text: String) { write(text, to: FileHandle.standardOutput) }
    static func error(_ text: String) { write(text, to: FileHandle.standardError) }

    private static func write(_ text: String, to handle: FileHandle) {
        lock.lock()
        defer { lock.unlock() }
        handle.write(Data((text + "\n").utf8))
    }
}
