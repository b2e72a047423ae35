import ESSTestSupport
import Foundation
import Testing

/// Issue 11, finding 10: with the disk full, the final checkpoint at SIGTERM fails; essd must
/// log it at error and exit 74 (EX_IOERR), not 0. The state directory is a small tmpfs that the
/// test fills after essd has opened (and preallocated) its files.
@Suite(.serialized) struct EssdStopTests {
    @Test func aFailedFinalCheckpointExits74() throws {
        let work = try TestEnvironment.temporaryDirectory("essd-stop")
        defer { try? FileManager.default.removeItem(at: work) }
        let state = work.appendingPathComponent("state")
        try FileManager.default.createDirectory(at: state, withIntermediateDirectories: true)
        let site = try EssdEndToEndTests.writeSite(
            in: work, ports: [TestEnvironment.freePort(), TestEnvironment.freePort()], stateDirectory: state)
        // The store's planned size, plus 1 MiB for the catalog, checkpoint and identity log.
        let (_, planJSON, _) = try EssdEndToEndTests.run(TestEnvironment.product("essctl"), ["store", "plan", "--config", site.path, "--json"])
        let plan = try #require(try JSONSerialization.jsonObject(with: Data(planJSON.utf8)) as? [String: Any])
        let files = try #require(plan["files"] as? [[String: Any]])
        let bytes = files.reduce(Int64(0)) { $0 + (($1["bytes"] as? NSNumber)?.int64Value ?? 0) }
        let sizeKB = bytes / 1024 + 1024
        // A file system of our own to fill: tmpfs (needs root, as the CI runs; a plain user gets
        // a clear failure, not a silent skip).
        let (mountStatus, _, mountErr) = try EssdEndToEndTests.run(
            "/bin/mount", ["-t", "tmpfs", "-o", "size=\(sizeKB)k", "tmpfs", state.path])
        try #require(mountStatus == 0, "cannot mount a tmpfs for the disk-full test (run as root): \(mountErr)")
        defer { _ = try? EssdEndToEndTests.run("/bin/umount", ["-l", state.path]) }
        let sim = try ChildProcess(TestEnvironment.product("ess-sim"), ["--config", site.path], name: "ess-sim")
        defer { sim.terminate() }
        try sim.waitForLine(containing: "ess-sim ready")
        let essd = try ChildProcess(TestEnvironment.product("essd"), ["--config", site.path], name: "essd")
        defer { essd.terminate() }
        Thread.sleep(forTimeInterval: 3)
        #expect(essd.process.isRunning, "essd did not start on the tmpfs: \(essd.standardError)")

        // Fill the file system: the checkpoint's temporary file cannot be written.
        let filler = state.appendingPathComponent("filler")
        let (ddStatus, _, _) = try EssdEndToEndTests.run("/bin/dd", ["if=/dev/zero", "of=\(filler.path)", "bs=64k"])
        #expect(ddStatus != 0, "dd stops at ENOSPC")

        kill(essd.process.processIdentifier, SIGTERM)
        let asked = Date()
        while essd.process.isRunning && Date().timeIntervalSince(asked) < 10 { usleep(20_000) }
        essd.process.waitUntilExit()
        let status = essd.process.terminationStatus
        let stderr = essd.standardError
        #expect(status == 74, "exit status \(status); stderr:\n\(stderr)")
        #expect(stderr.contains("final checkpoint failed"), "not logged:\n\(stderr)")
    }
}
