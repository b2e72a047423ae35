import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The exclusive writer lock of a state directory: `flock(2)` on `<directory>/writer.lock`,
/// taken when a `StoreWriter` opens and released when the last writer of this process for that
/// directory goes away (or the process dies, `kill -9` included: the kernel drops the lock).
///
/// Owns only the lock: one process at a time writes a store (essd, or `essctl import`), so a
/// second one is refused with the holder's process id instead of interleaving rows. Within one
/// process the lock is shared (counted), so essd's reload may open a new writer before the old
/// one is released. Readers never take it. The file holds the holder's pid, for messages only.
final class StoreDirectoryLock: Sendable {
    static let fileName = "writer.lock"

    private struct Held {
        var fd: Int32
        var count: Int
    }

    /// Per canonical directory: this process's lock descriptor and how many writers share it.
    private static let held = Mutex<[String: Held]>([:])

    let key: String

    /// Takes the lock of `directory` (which must exist), or throws `.inUse` naming the holder.
    init(directory: String) throws(StoreError) {
        let key = Self.canonical(directory)
        let result = Self.held.withLock { held -> StoreError? in
            if var entry = held[key] {
                entry.count += 1
                held[key] = entry
                return nil
            }
            let path = directory + "/" + Self.fileName
            let fd: Int32
            do throws(StoreError) {
                fd = try SystemCalls.open(path, flags: O_RDWR | O_CREAT)
            } catch {
                return error
            }
            while flock(fd, LOCK_EX | LOCK_NB) != 0 {
                let code = errno
                if code == EINTR { continue }
                SystemCalls.close(fd)
                if code == EWOULDBLOCK { return Self.inUse(directory: directory) }
                return SystemCalls.failure("flock", path: path, code: code)
            }
            let text = Array("\(getpid())\n".utf8)
            _ = ftruncate(fd, 0)
            _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
            held[key] = Held(fd: fd, count: 1)
            return nil
        }
        if let result { throw result }
        self.key = key
    }

    deinit {
        Self.held.withLock { held in
            guard var entry = held[key] else { return }
            entry.count -= 1
            if entry.count > 0 {
                held[key] = entry
            } else {
                SystemCalls.close(entry.fd)  // releases the flock
                held[key] = nil
            }
        }
    }

    /// The pid of another process holding the lock of `directory`, or nil when no other
    /// process does (this process's own writers do not count). Takes nothing.
    static func otherHolder(directory: String) -> Int32? {
        if held.withLock({ $0[canonical(directory)] != nil }) { return nil }
        let path = directory + "/" + fileName
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { SystemCalls.close(fd) }
        while flock(fd, LOCK_SH | LOCK_NB) != 0 {
            if errno == EINTR { continue }
            return holderPID(directory: directory) ?? 0
        }
        _ = flock(fd, LOCK_UN)
        return nil
    }

    /// The error for a lock another process holds: who holds it and what to do.
    static func inUse(directory: String) -> StoreError {
        let pid = holderPID(directory: directory)
        var who = pid.map { "process \($0)" } ?? "another process"
        if let pid, let name = processName(pid) { who += " (\(name))" }
        return StoreError(
            .inUse,
            "the store in \(directory) is open for writing by \(who); only one writer at a time. "
                + "Stop essd first (systemctl stop essd) or wait for the other import to finish, then try again")
    }

    private static func holderPID(directory: String) -> Int32? {
        readSmallFile(directory + "/" + fileName).flatMap { Int32($0.trimmingSpaces) }
    }

    private static func processName(_ pid: Int32) -> String? {
        readSmallFile("/proc/\(pid)/comm").map(\.trimmingSpaces).flatMap { $0.isEmpty ? nil : $0 }
    }

    private static func readSmallFile(_ path: String) -> String? {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { SystemCalls.close(fd) }
        var buffer = [UInt8](repeating: 0, count: 64)
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n > 0 else { return nil }
        return String(decoding: buffer[0..<n], as: UTF8.self)
    }

    private static func canonical(_ directory: String) -> String {
        guard let resolved = realpath(directory, nil) else { return directory }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}

extension String {
    fileprivate var trimmingSpaces: String {
        String(unicodeScalars.filter { $0 != "\n" && $0 != " " && $0 != "\r" && $0 != "\t" })
    }
}
