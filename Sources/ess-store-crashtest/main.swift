// ess-store-crashtest: writes CrashStream into a store until killed (the crash tests SIGKILL it).
//
//   ess-store-crashtest --dir D --seed S --checkpoint-every N [--max-samples M]
//
// Opens (or creates) the store in D with StoreWriter. When the store already holds rows it
// resumes after the newest intact raw row, replaying the consolidator from the start of the
// current coarsest slot so every slot it emits equals the uninterrupted stream's. Then, per
// sample: the raw row, then the consolidated slots it closes (SeriesConsolidator), and every N
// samples a checkpoint. stdout, one write(2) per line:
//   ready START FINGERPRINT        store open; the next sample written has index START
//   checkpoint SEQ TIMESTAMP_MS    checkpoint(nowMS:) returned; raw rows 1...SEQ are durable
//   done SEQ                       M samples written, exiting 0
// Errors go to stderr with exit status 1.
import ESSCore
import ESSTestSupport
import ESSStore
import Logging

#if canImport(Glibc)
    import Glibc
#endif

struct Options {
    var directory = ""
    var seed: UInt64 = 1
    var checkpointEvery = 1000
    var maxSamples = 600_000

    init(_ arguments: [String]) {
        var it = arguments.dropFirst().makeIterator()
        while let argument = it.next() {
            guard let value = it.next() else { fail("\(argument) needs a value") }
            switch argument {
            case "--dir": directory = value
            case "--seed": seed = UInt64(value) ?? { fail("--seed \(value) is not an unsigned integer") }()
            case "--checkpoint-every":
                checkpointEvery = Int(value) ?? { fail("--checkpoint-every \(value) is not an integer") }()
            case "--max-samples": maxSamples = Int(value) ?? { fail("--max-samples \(value) is not an integer") }()
            default: fail("unknown option \(argument); usage: --dir D --seed S --checkpoint-every N [--max-samples M]")
            }
        }
        guard !directory.isEmpty else { fail("--dir is required") }
        guard checkpointEvery > 0 else { fail("--checkpoint-every must be positive") }
    }
}

/// One line to stdout with a single write(2): nothing is buffered when SIGKILL arrives.
func emitLine(_ text: String) {
    var bytes = Array((text + "\n").utf8)
    bytes.withUnsafeMutableBytes { buffer in
        var done = 0
        while done < buffer.count {
            let n = write(1, buffer.baseAddress! + done, buffer.count - done)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { exit(2) }
            done += n
        }
    }
}

func fail(_ message: String) -> Never {
    let bytes = Array("ess-store-crashtest: \(message)\n".utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress!, $0.count) }
    exit(1)
}

/// The writing loop; one instance, on the main thread.
struct CrashWriter {
    let options: Options
    let seed: UInt64
    let writer: StoreWriter
    var consolidator = SeriesConsolidator(schema: CrashStream.schema, tiers: CrashStream.tiers)
    var closed: [ConsolidatedSlot] = []

    init(options: Options) {
        self.options = options
        seed = options.seed
        var logger = Logger(
            label: "ess-store-crashtest", factory: { label in StreamLogHandler.standardError(label: label) })
        logger.logLevel = .warning
        do {
            writer = try StoreWriter(
                directory: options.directory, siteID: CrashStream.siteID, schemas: [CrashStream.schema],
                tiers: CrashStream.tiers, pollIntervalsMS: CrashStream.pollIntervalsMS, nowMS: CrashStream.t0MS,
                logger: logger)
        } catch {
            fail("cannot open the store: \(error)")
        }
    }

    /// Index of the next sample: after the newest intact raw row, which must be the stream's.
    func resumeIndex() -> Int {
        do {
            let reader = try StoreReader(directory: options.directory)
            guard let last = try reader.latest(group: CrashStream.groupID) else { return 0 }
            let i = Int(last.sequence) - 1
            let expected = CrashStream.sample(seed, i)
            guard last.timestampMS == CrashStream.timestampMS(i),
                zip(last.values, expected.values).allSatisfy({ $0.bitPattern == $1.bitPattern }),
                last.qualities == expected.qualities.map(Optional.some)
            else {
                fail("newest raw row \(last.sequence) is not sample \(i) of the stream with seed \(seed)")
            }
            return i + 1
        } catch {
            fail("cannot read the store back: \(error)")
        }
    }

    /// Writes the slots sample `i` closes. While replaying, a slot older than one already stored
    /// is refused (it was written before the crash); afterwards a refusal is an error.
    mutating func consolidate(_ i: Int, replaying: Bool) {
        let sample = CrashStream.sample(seed, i)
        closed.removeAll(keepingCapacity: true)
        let outcome = consolidator.ingest(
            timestampMS: CrashStream.timestampMS(i), values: sample.values, qualities: sample.qualities
        ) { closed.append($0) }
        guard outcome == .accepted else { fail("consolidator held back sample \(i): \(outcome)") }
        for slot in closed {
            do {
                let result = try writer.write(slot)
                if case .refusedOlderThanStored = result, !replaying {
                    fail("slot \(slot.tier)@\(slot.startMS) refused after the replay: \(result)")
                }
            } catch {
                fail("write \(slot.tier)@\(slot.startMS): \(error)")
            }
        }
    }

    mutating func run() {
        var next = resumeIndex()
        for i in CrashStream.replayStart(before: next)..<next { consolidate(i, replaying: true) }
        emitLine("ready \(next) \(CrashStream.fingerprint(seed: seed))")
        var sinceCheckpoint = 0
        while next < options.maxSamples {
            let sample = CrashStream.sample(seed, next)
            do {
                let result = try writer.appendRaw(
                    group: CrashStream.groupID, timestampMS: CrashStream.timestampMS(next), values: sample.values,
                    qualities: sample.qualities)
                guard result == .written(sequence: UInt64(next + 1)) else {
                    fail("raw row of sample \(next): expected sequence \(next + 1), got \(result)")
                }
            } catch {
                fail("appendRaw sample \(next): \(error)")
            }
            consolidate(next, replaying: false)
            next += 1
            sinceCheckpoint += 1
            if sinceCheckpoint >= options.checkpointEvery {
                checkpoint(after: next - 1)
                emitLine("checkpoint \(next) \(CrashStream.timestampMS(next - 1))")
                sinceCheckpoint = 0
            }
        }
        checkpoint(after: next - 1)
        emitLine("done \(next)")
    }

    func checkpoint(after i: Int) {
        do {
            try writer.checkpoint(nowMS: CrashStream.timestampMS(i))
        } catch {
            fail("checkpoint after sample \(i): \(error)")
        }
    }
}

var crashWriter = CrashWriter(options: Options(CommandLine.arguments))
crashWriter.run()
