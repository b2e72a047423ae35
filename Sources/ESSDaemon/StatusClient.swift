import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Why a status request failed.
public struct StatusClientError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// No daemon answers on the socket (missing, refused, permission denied, timeout).
        case unreachable
        /// The daemon answered something that is not a version-1 response line.
        case protocolViolation
        /// The daemon answered `ok: false`.
        case refused
    }

    public var kind: Kind
    public var message: String
    /// For `.unreachable`: the failed system call.
    public var underlying: SocketError?

    public var description: String { message }
}

/// Asks essd's status socket one question per connection. Used by `essctl` and the tests; it
/// only reads, like the socket itself.
public struct StatusClient: Sendable {
    public var path: String
    public var timeoutMS: Int

    public init(path: String = StatusSocketServer.defaultPath, timeoutMS: Int = 3000) {
        self.path = path
        self.timeoutMS = timeoutMS
    }

    /// Sends `kind` and returns the daemon's response (`ok` true); throws otherwise.
    public func request(_ kind: StatusRequestKind) throws(StatusClientError) -> StatusResponse {
        let line: [UInt8]
        do {
            line = try StatusProtocol.line(StatusRequest(kind))
        } catch {
            throw StatusClientError(kind: .protocolViolation, message: "cannot encode the request: \(error)")
        }
        let answer = try exchange(line)
        let response: StatusResponse
        do {
            response = try JSONDecoder().decode(StatusResponse.self, from: Data(answer))
        } catch {
            throw StatusClientError(
                kind: .protocolViolation, message: "essd answered on \(path) with something that is not a status response")
        }
        guard response.ok else {
            throw StatusClientError(kind: .refused, message: "essd refused the request: \(response.error ?? "no reason given")")
        }
        return response
    }

    /// Sends raw bytes (a request line, or anything, for tests) and returns the first response
    /// line without its newline.
    public func exchange(_ bytes: [UInt8]) throws(StatusClientError) -> [UInt8] {
        do {
            let fd = try SocketCalls.socket(family: AF_UNIX, target: path)
            defer { SocketCalls.close(fd) }
            SocketCalls.setTimeouts(fd, ms: timeoutMS)
            try SocketCalls.connect(fd, unixPath: path)
            try SocketCalls.writeAll(fd, bytes, target: path)
            var received: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 65_536)
            while true {
                let n = try chunk.withUnsafeMutableBytes { buffer throws(SocketError) in
                    try SocketCalls.read(fd, into: buffer, target: path)
                }
                if n == 0 { break }
                received.append(contentsOf: chunk[0..<n])
                if let newline = received.firstIndex(of: UInt8(ascii: "\n")) { return Array(received[..<newline]) }
                if received.count > 64 << 20 { break }
            }
            guard !received.isEmpty else {
                throw StatusClientError(kind: .protocolViolation, message: "essd closed \(path) without answering")
            }
            return received
        } catch let error as SocketError {
            throw StatusClientError(
                kind: .unreachable,
                message: "essd is not running or \(path) is not accessible: \(error.errnoText)", underlying: error)
        } catch let error as StatusClientError {
            throw error
        } catch {
            throw StatusClientError(kind: .unreachable, message: "\(error)")
        }
    }
}
