import ESSSimulator
import Foundation

/// Reads commands from stdin, one per line, on its own thread (blocking reads never touch
/// Swift's cooperative pool). At end of input it stops reading; the simulator keeps running.
enum StdinCommandReader {
    static func start(server: SimulatorServer) {
        let thread = Thread {
            while let raw = readLine() {
                let line = raw.trimmingCharacters(in: .whitespaces)
                if line.isEmpty || line.hasPrefix("#") { continue }
                let command: SimulatorCommand
                do {
                    command = try SimulatorCommand(parsing: line)
                } catch {
                    Output.error("ess-sim: \(error)")
                    continue
                }
                server.send(command) { result in
                    switch result {
                    case .state(let report): Output.line(report.jsonLine())
                    case .done: Output.error("ess-sim: ok: \(line)")
                    case .failed(let error): Output.error("ess-sim: \(line): \(error)")
                    }
                }
            }
        }
        thread.name = "ess-sim stdin"
        thread.start()
    }
}
