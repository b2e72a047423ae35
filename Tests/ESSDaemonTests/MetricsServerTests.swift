@testable import ESSDaemon
import ESSTestSupport
import Foundation
import Logging
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Sends `request` to 127.0.0.1:`port` on a raw socket and returns the whole response.
func rawHTTP(port: Int, _ request: String) throws -> String {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = try SocketCalls.inetAddress(host: "127.0.0.1", port: port)
    let status = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    try #require(status == 0, "connect to 127.0.0.1:\(port): \(String(cString: strerror(errno)))")
    SocketCalls.setTimeouts(fd, ms: 3000)
    try SocketCalls.writeAll(fd, Array(request.utf8), target: "test")
    var received: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n <= 0 { break }
        received += chunk[0..<n]
    }
    return String(decoding: received, as: UTF8.self)
}

@Suite(.serialized) struct MetricsServerTests {
    @Test func servesMetricsOnAFreePort() throws {
        let port = TestEnvironment.freePort()
        let server = MetricsServer(port: port, logger: Logger(label: "test")) {
            MetricsExposition.render(MetricsFixture.snapshot())
        }
        try server.start()
        defer { server.stop() }
        #expect(server.port == port)

        let response = try rawHTTP(port: port, "GET /metrics HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n\r\n")
        let parts = response.components(separatedBy: "\r\n\r\n")
        #expect(parts[0].hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(parts[0].contains("Content-Type: text/plain; version=0.0.4; charset=utf-8"))
        #expect(parts[0].contains("Content-Length: \(parts[1].utf8.count)"))
        #expect(parts[1].contains("essd_device_up{device=\"bms1\"} 1"))

        #expect(try rawHTTP(port: port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n").hasPrefix("HTTP/1.1 404 Not Found"))
        #expect(try rawHTTP(port: port, "POST /metrics HTTP/1.1\r\nHost: x\r\n\r\n").hasPrefix("HTTP/1.1 405"))
        #expect(try rawHTTP(port: port, "nonsense\r\n\r\n").hasPrefix("HTTP/1.1 400"))
        // Query strings are ignored (Prometheus may add some).
        #expect(try rawHTTP(port: port, "GET /metrics?x=1 HTTP/1.0\r\n\r\n").hasPrefix("HTTP/1.1 200 OK"))
    }

    @Test func portZeroPicksOneAndStopReleasesIt() throws {
        let server = MetricsServer(port: 0, logger: Logger(label: "test")) { "" }
        try server.start()
        let port = server.port
        #expect(port > 0)
        server.stop()
        let again = MetricsServer(port: port, logger: Logger(label: "test")) { "" }
        try again.start()  // SO_REUSEADDR: the port is free again at once
        again.stop()
    }
}
