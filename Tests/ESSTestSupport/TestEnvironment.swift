import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Where things are when tests run: the repository, the built products, Python for peers.
public enum TestEnvironment {
    /// The repository root (two levels above this file's folder).
    public static let repository: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The folder holding the built executables (`ess-sim`, `essd`, ...) next to the test bundle.
    public static var productsDirectory: URL {
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("ess-sim").path) { return url }
        }
        return repository.appendingPathComponent(".build/debug")
    }

    public static func product(_ name: String) -> String { productsDirectory.appendingPathComponent(name).path }

    /// The Python with pymodbus that `scripts/test.sh` prepares (`ESSD_TEST_PYTHON` overrides).
    public static var python: String? {
        if let explicit = ProcessInfo.processInfo.environment["ESSD_TEST_PYTHON"] { return explicit }
        let venv = repository.appendingPathComponent(".venv-peers/bin/python").path
        return FileManager.default.isExecutableFile(atPath: venv) ? venv : nil
    }

    /// Path of an installed command, or nil.
    public static func which(_ command: String) -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let path = "\(dir)/\(command)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    /// A TCP port on 127.0.0.1 that was free a moment ago (the kernel picks it).
    public static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                _ = bind(fd, $0, len)
                _ = getsockname(fd, $0, &len)
            }
        }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    /// A fresh temporary folder, removed by the caller with `removeItem`.
    public static func temporaryDirectory(_ prefix: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
