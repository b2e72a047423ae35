import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A stand-in for systemd's notification socket: an AF_UNIX datagram socket bound to a path in a
/// fresh temp folder (or to an abstract name), from which tests read what essd sent.
public final class NotifyListener {
    let fd: Int32
    /// What to put in NOTIFY_SOCKET.
    public let notifySocket: String
    private let folder: URL?

    /// - Parameter abstract: bind to an abstract name (`@…`) instead of a path.
    public init(abstract: Bool = false) throws {
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ListenerError("socket: \(String(cString: strerror(errno)))") }
        var bytes: [UInt8]
        if abstract {
            notifySocket = "@essd-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            folder = nil
            bytes = Array(notifySocket.utf8)
            bytes[0] = 0
        } else {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
                "essd-notify-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            folder = dir
            notifySocket = dir.appendingPathComponent("notify").path
            bytes = Array(notifySocket.utf8) + [0]
        }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in bytes.enumerated() { raw[index] = byte }
        }
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + bytes.count)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0 else { throw ListenerError("bind \(notifySocket): \(String(cString: strerror(errno)))") }
    }

    deinit {
        close(fd)
        if let folder { try? FileManager.default.removeItem(at: folder) }
    }

    /// The next datagram, or nil if none arrives within `timeout` seconds.
    public func receive(timeout: Double = 2) -> String? {
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ready = poll(&descriptor, 1, Int32(timeout * 1000))
        guard ready > 0 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = recv(fd, &buffer, buffer.count, 0)
        guard count >= 0 else { return nil }
        return String(decoding: buffer[..<count], as: UTF8.self)
    }

    /// Every datagram that arrives within `window` seconds.
    /// `receive` on a thread of its own, so an async test does not block Swift's cooperative
    /// pool (which the code under test needs to make progress).
    public func receiveOffPool(timeout: Double = 5) async -> String? {
        await withCheckedContinuation { (done: CheckedContinuation<String?, Never>) in
            let box = UncheckedBox(self)
            Thread.detachNewThread { done.resume(returning: box.value.receive(timeout: timeout)) }
        }
    }

    /// `drain` on a thread of its own (see `receiveOffPool`).
    public func drainOffPool(window: Double) async -> [String] {
        await withCheckedContinuation { (done: CheckedContinuation<[String], Never>) in
            let box = UncheckedBox(self)
            Thread.detachNewThread { done.resume(returning: box.value.drain(window: window)) }
        }
    }

    public func drain(window: Double) -> [String] {
        var received: [String] = []
        let deadline = Date().addingTimeInterval(window)
        while case let left = deadline.timeIntervalSinceNow, left > 0, let message = receive(timeout: left) {
            received.append(message)
        }
        return received
    }

    /// The environment a notifier under test reads.
    public func environment(watchdogUS: Int? = nil) -> [String: String] {
        var environment = ["NOTIFY_SOCKET": notifySocket]
        if let watchdogUS { environment["WATCHDOG_USEC"] = "\(watchdogUS)" }
        return environment
    }
}

public struct ListenerError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Hands a non-Sendable listener to the one thread that uses it while the test awaits.
private struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
