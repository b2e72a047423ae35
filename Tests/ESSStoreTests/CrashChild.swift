import Dispatch
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// One run of `ess-store-crashtest`, started with `posix_spawn`, its stdout on a pipe (close-on-exec,
/// so children other tests start at the same time do not hold it open) and its stderr in a file.
/// `killAfter` waits for the `ready` line, sleeps, sends SIGKILL and collects what it printed.
final class CrashChild {
    /// What one run printed, parsed.
    struct Outcome {
        /// `ready START FINGERPRINT`.
        var start: Int
        var fingerprint: UInt64
        /// The last `checkpoint SEQ TIMESTAMP_MS` line, if any.
        var checkpointSequence: Int
        var checkpointMS: Int64?
        var checkpoints: Int
        /// True when the run ended by itself (`done`) before the signal.
        var finished: Bool
        var stderr: String
    }

    let pid: pid_t
    private let output: Int32
    private let stderrPath: String
    private var lines: [String] = []
    private var partial = ""

    /// `ess-store-crashtest` next to the test binary (or `ESSD_CRASHTEST_BIN`).
    static var executable: String {
        if let explicit = ProcessInfo.processInfo.environment["ESSD_CRASHTEST_BIN"] { return explicit }
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        while url.path != "/" {
            url.deleteLastPathComponent()
            let candidate = url.appendingPathComponent("ess-store-crashtest").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return "ess-store-crashtest"
    }

    init(arguments: [String], stderrPath: String) throws {
        var fds: [Int32] = [-1, -1]
        // pipe2(O_CLOEXEC) does not import; close-on-exec is set right after.
        guard pipe(&fds) == 0 else { throw CrashTestFailure("pipe: errno \(errno)") }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let path = Self.executable
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, path, &actions, nil, argv, environ)
        close(fds[1])
        guard status == 0 else {
            close(fds[0])
            throw CrashTestFailure("posix_spawn \(path): error \(status); build it with the tests")
        }
        self.pid = pid
        output = fds[0]
        self.stderrPath = stderrPath
    }

    deinit {
        close(output)
    }

    /// Reads stdout into `lines` until `stop` holds for a new complete line, EOF, or `timeoutUS` passes.
    /// Returns true when `stop` held.
    private func read(until stop: (Substring) -> Bool, timeoutUS: Int) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(timeoutUS) * 1000
        while true {
            let now = DispatchTime.now().uptimeNanoseconds
            guard now < deadline else { return false }
            var poller = pollfd(fd: output, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, Int32((deadline - now + 999_999) / 1_000_000))
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { continue }
            let n = buffer.withUnsafeMutableBytes { Glibc.read(output, $0.baseAddress!, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return false }
            partial += String(decoding: buffer[0..<n], as: UTF8.self)
            var found = false
            while let newline = partial.firstIndex(of: "\n") {
                let line = partial[..<newline]
                if stop(line) { found = true }
                lines.append(String(line))
                partial = String(partial[partial.index(after: newline)...])
            }
            if found { return true }
        }
    }

    /// Waits for `ready`, then `delayUS` more (reading stdout meanwhile), sends SIGKILL, reaps the
    /// child and parses the complete lines it printed (a line cut by the kill carries no promise).
    func killAfter(delayUS: Int) throws -> Outcome {
        let ready = read(until: { $0.hasPrefix("ready ") }, timeoutUS: 20_000_000)
        if ready { _ = read(until: { _ in false }, timeoutUS: delayUS) }
        kill(pid, SIGKILL)
        _ = read(until: { _ in false }, timeoutUS: 20_000_000)  // to EOF
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let stderr = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
        let signal = status & 0x7f
        let exitCode = (status >> 8) & 0xff
        guard ready else {
            throw CrashTestFailure(
                "no ready line (status \(status)); stdout:\n\(lines.joined(separator: "\n"))\nstderr:\n\(stderr)")
        }
        guard signal == SIGKILL || (signal == 0 && exitCode == 0) else {
            throw CrashTestFailure("child ended with signal \(signal), exit \(exitCode); stderr:\n\(stderr)")
        }
        var outcome = Outcome(
            start: -1, fingerprint: 0, checkpointSequence: 0, checkpointMS: nil, checkpoints: 0, finished: false,
            stderr: stderr)
        for line in lines {
            let fields = line.split(separator: " ")
            switch fields.first {
            case "ready":
                outcome.start = Int(fields[1])!
                outcome.fingerprint = UInt64(fields[2])!
            case "checkpoint":
                outcome.checkpointSequence = Int(fields[1])!
                outcome.checkpointMS = Int64(fields[2])!
                outcome.checkpoints += 1
            case "done": outcome.finished = true
            default: throw CrashTestFailure("unexpected line '\(line)'; stderr:\n\(stderr)")
            }
        }
        return outcome
    }
}

struct CrashTestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
