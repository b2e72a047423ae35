#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One tier file mapped whole with `mmap(MAP_SHARED)`: its descriptor, address and the byte
/// range written since the last `sync()`. Not thread-safe; owned by one writer or one reader.
final class MappedFile {
    let path: String
    let fd: Int32
    let base: UnsafeMutableRawPointer
    let bytes: Int
    let writable: Bool
    private var dirtyLower = Int.max
    private var dirtyUpper = 0

    /// Opens and maps an existing file (`open`, `fstat`, `mmap`).
    init(path: String, writable: Bool) throws(StoreError) {
        let fd = try SystemCalls.open(path, flags: writable ? O_RDWR : O_RDONLY)
        do throws(StoreError) {
            let size = try SystemCalls.fileSize(fd, path: path)
            guard size > 0 else {
                throw StoreError(
                    .wrongFileSize,
                    "\(path) is empty: the file was truncated; restore it from a backup or move the state directory aside"
                )
            }
            self.base = try SystemCalls.map(fd, bytes: Int(size), writable: writable, path: path)
            self.bytes = Int(size)
        } catch {
            SystemCalls.close(fd)
            throw error
        }
        self.fd = fd
        self.path = path
        self.writable = writable
    }

    /// Creates (or replaces) a file of exactly `bytes` bytes, blocks reserved, beginning with `header`; `fsync`ed.
    static func create(path: String, bytes: Int64, header: [UInt8]) throws(StoreError) {
        let fd = try SystemCalls.open(path, flags: O_RDWR | O_CREAT | O_TRUNC)
        defer { SystemCalls.close(fd) }
        try SystemCalls.allocate(fd, bytes: bytes, path: path)
        try SystemCalls.writeAll(fd, header, path: path)
        try SystemCalls.fsync(fd, path: path)
    }

    func markDirty(_ offset: Int, _ count: Int) {
        dirtyLower = min(dirtyLower, offset)
        dirtyUpper = max(dirtyUpper, offset + count)
    }

    /// `msync(MS_SYNC)` of what was written since the last call, then `fsync`.
    func sync() throws(StoreError) {
        if dirtyLower < dirtyUpper {
            try SystemCalls.sync(base, range: dirtyLower..<dirtyUpper, path: path)
        }
        try SystemCalls.fsync(fd, path: path)
        dirtyLower = Int.max
        dirtyUpper = 0
    }

    deinit {
        SystemCalls.unmap(base, bytes: bytes)
        SystemCalls.close(fd)
    }
}
