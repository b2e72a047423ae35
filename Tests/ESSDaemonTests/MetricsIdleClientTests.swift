@testable import ESSDaemon
import ESSTestSupport
import Foundation
import Logging
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Issue 11, finding 11: idle, slow and never-reading clients must not delay a scrape. (Before:
/// one idle connection delayed a scrape by 5 s, four by more than 20 s, ~18 filled the backlog.)
@Suite(.serialized) struct MetricsIdleClientTests {
    /// A connected TCP socket to 127.0.0.1:`port` that the test holds open.
    static func connectedSocket(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = try SocketCalls.inetAddress(host: "127.0.0.1", port: port)
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        try #require(status == 0, "connect: \(String(cString: strerror(errno)))")
        return fd
    }

    /// The time a whole scrape takes, in seconds.
    static func timedScrape(port: Int) throws -> (seconds: Double, response: String) {
        let start = Date()
        let response = try rawHTTP(port: port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        return (Date().timeIntervalSince(start), response)
    }

    @Test func idleConnectionsDoNotDelayAScrape() throws {
        let server = MetricsServer(port: 0, timeoutMS: 5000, maxConnections: 64, logger: Logger(label: "test")) {
            String(repeating: "essd_test_metric 1\n", count: 100)
        }
        try server.start()
        defer { server.stop() }
        // 40 idle clients (more than the old backlog of 16), some with half a request line.
        var idle: [Int32] = []
        defer { idle.forEach { close($0) } }
        for k in 0..<40 {
            let fd = try Self.connectedSocket(port: server.port)
            if k % 2 == 1 { _ = "GET /metr".withCString { send(fd, $0, 9, Int32(MSG_NOSIGNAL)) } }
            idle.append(fd)
        }
        usleep(100_000)
        for _ in 0..<5 {
            let (seconds, response) = try Self.timedScrape(port: server.port)
            #expect(response.hasPrefix("HTTP/1.1 200 OK"), "\(response.prefix(60))")
            #expect(seconds < 0.5, "a scrape took \(seconds) s beside 40 idle clients")
        }
    }

    /// More clients than the connection bound: the oldest idle ones are closed to make room, and
    /// a scrape still gets through at once.
    @Test func connectionsAreBoundedAndAScrapeStillGetsThrough() throws {
        let server = MetricsServer(port: 0, timeoutMS: 5000, maxConnections: 8, logger: Logger(label: "test")) { "m 1\n" }
        try server.start()
        defer { server.stop() }
        var idle: [Int32] = []
        defer { idle.forEach { close($0) } }
        for _ in 0..<30 { idle.append(try Self.connectedSocket(port: server.port)) }
        usleep(200_000)
        let (seconds, response) = try Self.timedScrape(port: server.port)
        #expect(response.hasPrefix("HTTP/1.1 200 OK") && seconds < 0.5, "\(seconds) s: \(response.prefix(60))")
        // The evicted ones see end of stream (a read returns 0), not a hang.
        var closed = 0
        for fd in idle {
            var byte: UInt8 = 0
            if recv(fd, &byte, 1, Int32(MSG_DONTWAIT)) == 0 { closed += 1 }
        }
        #expect(closed >= 30 - 8, "\(closed) of 30 idle connections were closed to keep at most 8")
    }

    /// A client that sends a request and never reads a large answer is dropped at its deadline and
    /// does not stop others meanwhile.
    @Test func aClientThatNeverReadsDoesNotBlockOthers() throws {
        let big = String(repeating: "essd_padding_metric_with_a_long_name{label=\"value\"} 12345\n", count: 40_000)  // ~2.3 MB
        let server = MetricsServer(port: 0, timeoutMS: 1500, logger: Logger(label: "test")) { big }
        try server.start()
        defer { server.stop() }
        let stuck = try Self.connectedSocket(port: server.port)
        defer { close(stuck) }
        var size: Int32 = 4096
        setsockopt(stuck, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        _ = "GET /metrics HTTP/1.1\r\n\r\n".withCString { send(stuck, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
        usleep(200_000)
        let (seconds, response) = try Self.timedScrape(port: server.port)
        #expect(response.hasPrefix("HTTP/1.1 200 OK") && seconds < 1.0, "\(seconds) s beside a client that never reads")
        #expect(response.utf8.count > big.utf8.count, "whole body received")
    }
}
