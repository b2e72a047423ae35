import Foundation
public import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A minimal HTTP/1.1 server for Prometheus: `GET /metrics` answers the text `body()` returns,
/// any other path 404, any other method 405; one request per connection (`Connection: close`).
/// Its connections are served side by side on one thread (`HTTPConnectionLoop`: non-blocking,
/// each bounded by `timeoutMS`, at most `maxConnections` open), so an idle or slow client never
/// delays a scrape. Bound to 127.0.0.1 by default. Owns the listening socket; not the metrics
/// (`MetricsExposition`).
public final class MetricsServer: Sendable {
    public let host: String
    public let requestedPort: Int
    public let timeoutMS: Int
    private let body: @Sendable () -> String
    private let logger: Logger

    private let boundPort = Mutex(0)
    private let connections: HTTPConnectionLoop

    /// Requests larger than this (headers included) are refused.
    static let maxRequestBytes = 8192

    /// - Parameters:
    ///   - port: 0 lets the kernel pick one (see `port` after `start()`).
    ///   - body: the exposition, rendered on the server's thread at every scrape.
    public init(
        host: String = "127.0.0.1", port: Int, timeoutMS: Int = 5000, maxConnections: Int = 64, logger: Logger,
        body: @escaping @Sendable () -> String
    ) {
        self.host = host
        requestedPort = port
        self.timeoutMS = timeoutMS
        self.logger = logger
        self.body = body
        connections = HTTPConnectionLoop(
            threadName: "essd-metrics", role: "metrics endpoint", target: "\(host):\(port)", maxConnections: maxConnections,
            deadlineMS: timeoutMS, maxRequestBytes: Self.maxRequestBytes, logger: logger,
            respond: { request in Self.respond(to: request, body: body) })
    }

    /// The port listened on (after `start()`).
    public var port: Int { boundPort.withLock { $0 } }

    /// Binds, listens and starts the accept thread.
    public func start() throws(SocketError) {
        let fd = try SocketCalls.socket(family: AF_INET, target: "\(host):\(requestedPort)")
        let port: Int
        do {
            try SocketCalls.bind(fd, host: host, port: requestedPort)
            try SocketCalls.listen(fd, backlog: 64, target: "\(host):\(requestedPort)")
            port = try SocketCalls.boundPort(fd)
            try connections.start(listener: fd)
        } catch {
            SocketCalls.close(fd)
            throw error
        }
        boundPort.withLock { $0 = port }
        logger.info("metrics listening", metadata: ["address": "http://\(host):\(port)/metrics"])
    }

    /// Stops serving, closes every connection and the listener.
    public func stop() { connections.stop() }

    /// The whole HTTP response for a request's bytes (pure apart from `body`).
    static func respond(to request: [UInt8], body: () -> String) -> [UInt8] {
        guard request.count <= maxRequestBytes else {
            return response(status: "431 Request Header Fields Too Large", contentType: "text/plain", body: "request too large\n")
        }
        let firstLine = String(decoding: request.prefix { $0 != UInt8(ascii: "\r") && $0 != UInt8(ascii: "\n") }, as: UTF8.self)
        let parts = firstLine.split(separator: " ")
        guard parts.count == 3, parts[2].hasPrefix("HTTP/1.") else {
            return response(status: "400 Bad Request", contentType: "text/plain", body: "malformed request line\n")
        }
        let method = parts[0]
        let path = parts[1].split(separator: "?", maxSplits: 1).first.map(String.init) ?? ""
        guard path == "/metrics" else {
            return response(status: "404 Not Found", contentType: "text/plain", body: "not found: only /metrics is served\n")
        }
        guard method == "GET" || method == "HEAD" else {
            return response(
                status: "405 Method Not Allowed", contentType: "text/plain", body: "only GET is allowed\n",
                extra: "Allow: GET, HEAD\r\n")
        }
        let text = body()
        return response(
            status: "200 OK", contentType: MetricsExposition.contentType, body: text, omitBody: method == "HEAD")
    }

    static func response(
        status: String, contentType: String, body: String, extra: String = "", omitBody: Bool = false
    ) -> [UInt8] {
        let payload = Array(body.utf8)
        let head =
            "HTTP/1.1 \(status)\r\nContent-Type: \(contentType)\r\nContent-Length: \(payload.count)\r\n\(extra)Connection: close\r\n\r\n"
        return Array(head.utf8) + (omitBody ? [] : payload)
    }
}
