import CModbus
import ESSCore
import Foundation

/// A raw libmodbus client for the tests, run on its own thread so blocking calls never sit on
/// Swift's cooperative pool. Every call opens, uses, closes and frees its own context.
enum ModbusTestClient {
    struct Reply: Sendable {
        var words: [UInt16]
        /// 0 on success, else errno after the failed call (MODBUS_ENOBASE + code for exceptions).
        var errno: Int32
        var elapsedMS: Int
    }

    enum Link: Sendable {
        case tcp(port: Int)
        case rtu(path: String)
    }

    static func onThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: body()) }.start()
        }
    }

    /// Reads `count` registers (or bits, one word each) of `kind` at `address` from `unit`.
    static func read(_ link: Link, unit: Int, kind: RegisterKind, address: Int, count: Int, timeoutMS: Int = 1000) async -> Reply {
        await onThread { call(link, unit: unit, timeoutMS: timeoutMS) { ctx in
            var words = [UInt16](repeating: 0, count: count)
            var bits = [UInt8](repeating: 0, count: count)
            let rc: Int32
            switch kind {
            case .holding: rc = modbus_read_registers(ctx, Int32(address), Int32(count), &words)
            case .input: rc = modbus_read_input_registers(ctx, Int32(address), Int32(count), &words)
            case .coil: rc = modbus_read_bits(ctx, Int32(address), Int32(count), &bits)
            case .discrete: rc = modbus_read_input_bits(ctx, Int32(address), Int32(count), &bits)
            }
            if kind.isBitTable { words = bits.map { UInt16($0) } }
            return (rc, words)
        } }
    }

    /// Writes one holding register (FC 6).
    static func writeRegister(_ link: Link, unit: Int, address: Int, value: UInt16) async -> Reply {
        await onThread { call(link, unit: unit, timeoutMS: 1000) { ctx in
            (modbus_write_register(ctx, Int32(address), value), [])
        } }
    }

    private static func call(_ link: Link, unit: Int, timeoutMS: Int, _ body: (OpaquePointer) -> (Int32, [UInt16])) -> Reply {
        let ctx: OpaquePointer?
        switch link {
        case .tcp(let port): ctx = modbus_new_tcp("127.0.0.1", Int32(port))
        case .rtu(let path): ctx = modbus_new_rtu(path, 9600, CChar(UInt8(ascii: "N")), 8, 1)
        }
        guard let ctx else { return Reply(words: [], errno: CModbus_errno(), elapsedMS: 0) }
        defer { modbus_free(ctx) }
        modbus_set_slave(ctx, Int32(unit))
        modbus_set_response_timeout(ctx, UInt32(timeoutMS / 1000), UInt32(timeoutMS % 1000 * 1000))
        guard modbus_connect(ctx) == 0 else { return Reply(words: [], errno: CModbus_errno(), elapsedMS: 0) }
        defer { modbus_close(ctx) }
        let start = Date()
        let (rc, words) = body(ctx)
        let elapsed = Int(Date().timeIntervalSince(start) * 1000)
        return Reply(words: words, errno: rc < 0 ? CModbus_errno() : 0, elapsedMS: elapsed)
    }

    static func exceptionErrno(_ code: Int32) -> Int32 { CModbus_ENOBASE() + code }
}
