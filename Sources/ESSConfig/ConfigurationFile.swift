#if canImport(Glibc)
    internal import Glibc
#endif

/// Reads one configuration file (site, profile, tariff, policy, import map) whole, after
/// checking that it is a regular file of at most `maxBytes`: the size is taken with
/// `fstat(2)` before anything is read, and the read itself stops after `maxBytes + 1` bytes, so
/// neither a huge file nor a device such as /dev/zero can make essd read without end. A FIFO
/// is opened without blocking and refused. Owns no parsing.
enum ConfigurationFile {
    /// The largest configuration file essd reads: 1 MiB (the example site and its profiles
    /// take a few KiB).
    static let maxBytes = 1 << 20

    /// What reading a file gave.
    enum Outcome {
        case text(String)
        /// No such file (ENOENT, or a path component that is not a folder).
        case missing
        /// The file is there but cannot be used; the text says why and what to do.
        case refused(String)
    }

    /// The text of `path`, or why there is none.
    static func read(_ path: String) -> Outcome {
        guard !path.utf8.contains(0) else { return .refused("the path contains a NUL byte; check the path") }
        let fd = path.withCString { open($0, O_RDONLY | O_CLOEXEC | O_NONBLOCK) }
        guard fd >= 0 else {
            let code = errno
            if code == ENOENT || code == ENOTDIR { return .missing }
            return .refused("the file cannot be opened: \(String(cString: strerror(code))); check its permissions")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            return .refused("the file cannot be examined (fstat): \(String(cString: strerror(errno)))")
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            let kind = info.st_mode & S_IFMT == S_IFDIR ? "a folder" : "not a regular file"
            return .refused("the path is \(kind); name a configuration file")
        }
        guard info.st_size <= Int64(maxBytes) else { return .refused(tooLarge("\(info.st_size) bytes")) }
        // The file may grow between fstat and read: never read more than maxBytes + 1.
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size) + 1)
        var count = 0
        while true {
            if count == bytes.count {
                guard bytes.count <= maxBytes else { return .refused(tooLarge("more than \(maxBytes) bytes")) }
                bytes.append(contentsOf: repeatElement(0, count: min(bytes.count, maxBytes + 1 - bytes.count)))
            }
            let n = bytes.withUnsafeMutableBytes { buffer in
                Glibc.read(fd, buffer.baseAddress! + count, buffer.count - count)
            }
            if n < 0 {
                if errno == EINTR { continue }
                return .refused("the file cannot be read: \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            count += n
        }
        guard let text = String(validating: bytes[0..<count], as: UTF8.self) else {
            return .refused("the file is not UTF-8 text; save it as UTF-8")
        }
        return .text(text)
    }

    private static func tooLarge(_ size: String) -> String {
        "the file is \(size), more than the \(maxBytes) bytes (1 MiB) a configuration file may have; check that this is the right file"
    }
}
