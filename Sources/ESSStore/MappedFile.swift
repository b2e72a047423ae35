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
    /// The byte range written since the last `sync()`: [lower, upper), empty when lower >= upper.
    /// Behind a pointer so that marking it on every row costs no exclusivity check.
    let dirty: UnsafeMutablePointer<Int> = {
        let range = UnsafeMutablePointer<Int>.allocate(capacity: 2)
        range.initialize(to: Int.max)
        (range + 1).initialize(to: 0)
        return range
    }()

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

    @inline(__always)
    func markDirty(_ offset: Int, _ count: Int) { Self.markDirty(dirty, offset, count) }

    /// Widens a mapping's written range (`dirty`) by `[offset, offset + count)`: for holders of
    /// the range's pointer (the writer's slot targets).
    @inline(__always)
    static func markDirty(_ dirty: UnsafeMutablePointer<Int>, _ offset: Int, _ count: Int) {
        if offset < dirty[0] { dirty[0] = offset }
        if offset + count > dirty[1] { dirty[1] = offset + count }
    }

    /// Drops this process' page-table entries of the mapping (`madvise(MADV_DONTNEED)`): the
    /// pages stay in the page cache and the next access maps them again, so a long read (or a
    /// long bulk write) does not grow the resident set. The mapping is `MAP_SHARED`, so pages
    /// written and not yet synced stay dirty in the page cache (the kernel carries a dropped
    /// entry's dirty bit over to its page; madvise(2): later accesses see "the up-to-date
    /// contents of the underlying mapped file"): nothing is lost, a killed writer's data is in
    /// the page cache as before, and `sync()` still writes them back (`msync(MS_SYNC)` flushes
    /// the file range whether it is mapped or not, then `fsync`). The written range is kept.
    func releaseResidentPages() {
        SystemCalls.dropResidentPages(base, bytes: bytes)
    }

    /// `madvise(MADV_RANDOM)`: no read-ahead for this mapping's faults, so the page cache takes
    /// its pages one small page at a time. For a bulk writer that gives pages back: the kernel
    /// maps a large folio (up to 2 MiB, which read-ahead makes) whole on a fault, so touching one
    /// row would make 2 MiB resident again. Only residency and read-ahead change.
    func adviseRandomAccess() {
        SystemCalls.adviseRandomAccess(base, bytes: bytes)
    }

    /// Bytes from the lowest to the highest offset written since the last `sync()` (0: none).
    var unsyncedBytes: Int { max(0, dirty[1] - dirty[0]) }

    /// Whether `sync()` must `fsync` even with nothing written through this mapping: until the
    /// first `sync()` after opening (another process may have left data in the page cache that
    /// is not durable yet, e.g. a writer killed before its checkpoint).
    private var fsyncOwed = true
    /// `fsync` calls made by `sync()` (for tests).
    private(set) var fsyncs = 0

    /// `msync(MS_SYNC)` of what was written since the last call, then `fsync`. Nothing when
    /// nothing was written since the last call (and one was made): a tier written once an hour
    /// or a day costs no `fsync` at every checkpoint.
    func sync() throws(StoreError) {
        let written = dirty[0] < dirty[1]
        guard written || fsyncOwed else { return }
        if written {
            try SystemCalls.sync(base, range: dirty[0]..<dirty[1], path: path)
        }
        try SystemCalls.fsync(fd, path: path)
        fsyncs += 1
        dirty[0] = Int.max
        dirty[1] = 0
        fsyncOwed = false
    }

    deinit {
        dirty.deallocate()
        SystemCalls.unmap(base, bytes: bytes)
        SystemCalls.close(fd)
    }
}
