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
                    Output.line("error: \(line): \(error)")
                    continue
                }
                server.send(command) { result in
                    switch result {
                    case .state(let report): Output.line(report.jsonLine())
                    // Acknowledgements go to stdout so a driving script can wait for them.
                    case .done: Output.line("ok: \(line)")
                    case .failed(let error): Output.line("error: \(line): \(error)")
                    }
                }
            }
        }
        thread.name = "ess-sim stdin"
        thread.start()
    }
}
