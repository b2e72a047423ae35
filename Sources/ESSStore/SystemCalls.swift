#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Every system call the store makes, in one place. Each wrapper retries `EINTR` and throws a
/// `StoreError` of kind `.systemCall` naming the C function and the path. Internal.
enum SystemCalls {
    /// Runs `body` until it does not fail with `EINTR`; a result of -1 throws.
    @discardableResult
    static func call<T: FixedWidthInteger>(
        _ function: String, path: String, _ body: () -> T
    ) throws(StoreError) -> T {
        while true {
            let result = body()
            if result != -1 { return result }
            let code = errno
            if code == EINTR { continue }
            throw failure(function, path: path, code: code)
        }
    }

    static func failure(_ function: String, path: String, code: Int32) -> StoreError {
        StoreError(
            .systemCall, "\(function)(\(path)) failed: \(errorText(code)) (errno \(code))", errorNumber: code)
    }

    static func errorText(_ code: Int32) -> String { String(cString: strerror(code)) }

    /// `open(2)`, always with `O_CLOEXEC`.
    static func open(_ path: String, flags: Int32, mode: mode_t = 0o644) throws(StoreError) -> Int32 {
        try call("open", path: path) { Glibc.open(path, flags | O_CLOEXEC, mode) }
    }

    /// `close(2)`; EINTR is not retried (the descriptor is gone either way on Linux).
    static func close(_ fd: Int32) {
        if fd >= 0 { _ = Glibc.close(fd) }
    }

    /// `fstat(2)`: the file's size in bytes.
    static func fileSize(_ fd: Int32, path: String) throws(StoreError) -> Int64 {
        var info = stat()
        try call("fstat", path: path) { fstat(fd, &info) }
        return Int64(info.st_size)
    }

    /// `stat(2)`: the size of the file at `path`, or nil when it does not exist.
    static func sizeIfExists(_ path: String) throws(StoreError) -> Int64? {
        var info = stat()
        while true {
            if stat(path, &info) == 0 { return Int64(info.st_size) }
            let code = errno
            if code == EINTR { continue }
            if code == ENOENT { return nil }
            throw failure("stat", path: path, code: code)
        }
    }

    /// `ftruncate(2)` then `posix_fallocate(3)`, so the blocks are reserved now, not at the first write.
    static func allocate(_ fd: Int32, bytes: Int64, path: String) throws(StoreError) {
        try call("ftruncate", path: path) { ftruncate(fd, off_t(bytes)) }
        while true {
            let code = posix_fallocate(fd, 0, off_t(bytes))
            if code == 0 || code == EOPNOTSUPP || code == EINVAL { return }  // not supported: sparse file
            if code == EINTR { continue }
            throw failure("posix_fallocate", path: path, code: code)
        }
    }

    /// `fsync(2)`.
    static func fsync(_ fd: Int32, path: String) throws(StoreError) {
        try call("fsync", path: path) { Glibc.fsync(fd) }
    }

    /// `fsync(2)` of a directory, so renames and creations in it are durable.
    static func fsyncDirectory(_ path: String) throws(StoreError) {
        let fd = try open(path, flags: O_RDONLY | O_DIRECTORY)
        defer { close(fd) }
        try fsync(fd, path: path)
    }

    /// `mkdir(2)`; an existing directory is fine.
    static func makeDirectory(_ path: String) throws(StoreError) {
        while true {
            if mkdir(path, 0o755) == 0 { return }
            let code = errno
            if code == EINTR { continue }
            if code == EEXIST { return }
            throw failure("mkdir", path: path, code: code)
        }
    }

    /// `rename(2)`.
    static func rename(_ from: String, to: String) throws(StoreError) {
        try call("rename", path: "\(from) -> \(to)") { Glibc.rename(from, to) }
    }

    /// `unlink(2)`; a missing file is fine.
    static func removeIfExists(_ path: String) throws(StoreError) {
        while true {
            if unlink(path) == 0 { return }
            let code = errno
            if code == EINTR { continue }
            if code == ENOENT { return }
            throw failure("unlink", path: path, code: code)
        }
    }

    /// `pwrite(2)` of all of `bytes` at `offset`.
    static func writeAll(_ fd: Int32, _ bytes: [UInt8], at offset: Int64 = 0, path: String) throws(StoreError) {
        var done = 0
        while done < bytes.count {
            let n = try call("pwrite", path: path) {
                bytes.withUnsafeBytes { buffer in
                    pwrite(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
                }
            }
            done += n
        }
    }

    /// Appends `bytes` (whole lines) to the file at `path` (`O_APPEND`, created 0644 when
    /// missing), then `fsync`. When the file's last byte is not a newline (a line cut short by
    /// a crash), a newline goes first, so the cut line keeps its own line.
    static func appendLines(_ bytes: [UInt8], path: String) throws(StoreError) {
        guard !bytes.isEmpty else { return }
        let fd = try open(path, flags: O_RDWR | O_CREAT | O_APPEND)
        defer { close(fd) }
        var bytes = bytes
        let size = try fileSize(fd, path: path)
        if size > 0 {
            var last: UInt8 = 0
            if pread(fd, &last, 1, off_t(size - 1)) == 1, last != 0x0A { bytes.insert(0x0A, at: 0) }
        }
        var done = 0
        while done < bytes.count {
            done += try call("write", path: path) {
                bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, $0.count - done) }
            }
        }
        try fsync(fd, path: path)
    }

    /// `read(2)` of a whole small file, or nil when it does not exist.
    static func readWholeFile(_ path: String) throws(StoreError) -> [UInt8]? {
        let fd: Int32
        do { fd = try open(path, flags: O_RDONLY) } catch  where error.errorNumber == ENOENT { return nil }
        defer { close(fd) }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = try call("read", path: path) {
                chunk.withUnsafeMutableBytes { buffer in Glibc.read(fd, buffer.baseAddress, buffer.count) }
            }
            if n == 0 { return result }
            result += chunk[0..<n]
        }
    }

    /// Writes a small file crash-safely: `path.tmp`, `fsync`, `rename` over `path`, `fsync` of the directory.
    static func replaceFile(_ path: String, with bytes: [UInt8], directory: String) throws(StoreError) {
        let temporary = path + ".tmp"
        let fd = try open(temporary, flags: O_WRONLY | O_CREAT | O_TRUNC)
        do throws(StoreError) {
            try writeAll(fd, bytes, path: temporary)
            try fsync(fd, path: temporary)
        } catch {
            close(fd)
            throw error
        }
        close(fd)
        try rename(temporary, to: path)
        try fsyncDirectory(directory)
    }

    /// `mmap(2)` of a whole file, shared; read-only unless `writable`.
    static func map(_ fd: Int32, bytes: Int, writable: Bool, path: String) throws(StoreError) -> UnsafeMutableRawPointer
    {
        let protection = writable ? (PROT_READ | PROT_WRITE) : PROT_READ
        while true {
            let address = mmap(nil, bytes, protection, MAP_SHARED, fd, 0)
            if let address, address != UnsafeMutableRawPointer(bitPattern: -1) { return address }
            let code = errno
            if code == EINTR { continue }
            throw failure("mmap", path: path, code: code)
        }
    }

    /// `munmap(2)`.
    static func unmap(_ address: UnsafeMutableRawPointer, bytes: Int) {
        _ = munmap(address, bytes)
    }

    /// `msync(2)` with `MS_SYNC` of a byte range, widened to whole pages.
    static func sync(
        _ address: UnsafeMutableRawPointer, range: Range<Int>, path: String
    ) throws(StoreError) {
        let page = pageSize
        let start = range.lowerBound / page * page
        try call("msync", path: path) { msync(address + start, range.upperBound - start, MS_SYNC) }
    }

    /// `madvise(MADV_DONTNEED)` of a whole mapping: drops this process' page-table entries (a
    /// shared file mapping's pages stay in the page cache, dirty ones included, and the next
    /// access maps them again). Only resident memory changes, so a failure is ignored.
    static func dropResidentPages(_ address: UnsafeMutableRawPointer, bytes: Int) {
        _ = madvise(address, bytes, MADV_DONTNEED)
    }

    /// `madvise(MADV_RANDOM)` of a whole mapping: its faults read no pages ahead. Only the
    /// page cache's fill pattern changes, so a failure is ignored.
    static func adviseRandomAccess(_ address: UnsafeMutableRawPointer, bytes: Int) {
        _ = madvise(address, bytes, MADV_RANDOM)
    }

    static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    /// `sched_yield(2)`: lets a writer finish a row before a reader reads it again.
    static func yield() { _ = sched_yield() }
}
