/// The four Modbus data tables.
public enum RegisterKind: String, Sendable, Hashable, CaseIterable, Codable {
    case coil
    case discrete
    case holding
    case input

    /// Coils and discrete inputs address single bits; the other two address 16-bit registers.
    public var isBitTable: Bool { self == .coil || self == .discrete }

    /// The read function code for this table (1, 2, 3, 4). essd sends no other.
    public var readFunctionCode: UInt8 {
        switch self {
        case .coil: 1
        case .discrete: 2
        case .holding: 3
        case .input: 4
        }
    }
}

/// How the registers of one point are turned into a value.
public enum ValueType: Sendable, Hashable {
    /// One coil or discrete input, or a register that is non-zero.
    case bool
    /// Bit N (0 = least significant) of one 16-bit register.
    case bit(Int)
    case int16, uint16, int32, uint32, int64, uint64, float32, float64
    /// ASCII/UTF-8 text in N registers, two bytes per register, high byte first, NUL-padded.
    case string(registers: Int)

    /// Number of registers (or bits, in a bit table) the value occupies.
    public var registerCount: Int {
        switch self {
        case .bool, .bit, .int16, .uint16: 1
        case .int32, .uint32, .float32: 2
        case .int64, .uint64, .float64: 4
        case .string(let n): n
        }
    }

    /// True for types whose value is a number (everything but strings).
    public var isNumeric: Bool {
        if case .string = self { return false }
        return true
    }

    /// The name used in profile files ("int16", "bit3", "string8", ...).
    public var name: String {
        switch self {
        case .bool: "bool"
        case .bit(let n): "bit\(n)"
        case .int16: "int16"
        case .uint16: "uint16"
        case .int32: "int32"
        case .uint32: "uint32"
        case .int64: "int64"
        case .uint64: "uint64"
        case .float32: "float32"
        case .float64: "float64"
        case .string(let n): "string\(n)"
        }
    }

    /// Parses a profile-file type name; nil when it is not one.
    public init?(name: String) {
        switch name {
        case "bool": self = .bool
        case "int16": self = .int16
        case "uint16": self = .uint16
        case "int32": self = .int32
        case "uint32": self = .uint32
        case "int64": self = .int64
        case "uint64": self = .uint64
        case "float32": self = .float32
        case "float64": self = .float64
        default:
            if name.hasPrefix("bit"), let n = Int(name.dropFirst(3)), (0...15).contains(n) {
                self = .bit(n)
            } else if name.hasPrefix("string"), let n = Int(name.dropFirst(6)), (1...125).contains(n) {
                self = .string(registers: n)
            } else {
                return nil
            }
            // Only canonical spellings: "bit3", not "bit03" or "bit+3".
            if self.name != name { return nil }
        }
    }
}

/// Order of the bytes of a multi-register value, as the letters of its big-endian bytes
/// A (most significant) to D appear on the wire. ABCD is Modbus' own big-endian order;
/// CDAB swaps the 16-bit words; BADC swaps the bytes within each word; DCBA does both.
/// For 64-bit values the same rule extends to eight bytes (words reversed for CDAB/DCBA).
public enum WordOrder: String, Sendable, Hashable, CaseIterable, Codable {
    case abcd = "ABCD"
    case cdab = "CDAB"
    case badc = "BADC"
    case dcba = "DCBA"

    /// True when 16-bit words arrive least-significant first.
    public var swapsWords: Bool { self == .cdab || self == .dcba }
    /// True when the two bytes of every register are swapped.
    public var swapsBytes: Bool { self == .badc || self == .dcba }
}

/// A raw value that a device uses to say "this point is not implemented".
public enum NotImplementedSentinel: Sendable, Hashable {
    /// The raw register bits (after word order, before scaling), e.g. 0x8000 for int16,
    /// 0xFFFF for uint16, 0x8000_0000 for int32.
    case rawBits(UInt64)
    /// A floating-point NaN.
    case nan
}

/// One value in a device's register map: where it is, how to decode it, what it means.
/// Owns no state; decoding is done by `RegisterDecoder`.
public struct PointDefinition: Sendable, Hashable {
    public var name: String
    public var role: SignalRole
    public var kind: RegisterKind
    /// 0-based protocol address of the first register (or bit).
    public var address: Int
    public var type: ValueType
    public var wordOrder: WordOrder
    /// value = raw × 10^scaleFactor × scale + offset
    public var scale: Double
    public var offset: Double
    public var unit: String?
    /// Name of another point of the same profile holding an int16 power-of-ten exponent
    /// (SunSpec style); it is always read in the same request as this point.
    public var scaleFactorPoint: String?
    public var notImplemented: NotImplementedSentinel?
    /// This point is polled every `pollMultiple` × the device's poll interval.
    public var pollMultiple: Int
    /// Free text shown to people.
    public var description: String?
    /// Names of the store tiers this point is kept in; nil for the default of its role
    /// (a role: every tier; `other`: raw and 15 min).
    public var tiers: Set<String>?

    public init(
        name: String,
        role: SignalRole = .other,
        kind: RegisterKind = .holding,
        address: Int,
        type: ValueType = .uint16,
        wordOrder: WordOrder = .abcd,
        scale: Double = 1,
        offset: Double = 0,
        unit: String? = nil,
        scaleFactorPoint: String? = nil,
        notImplemented: NotImplementedSentinel? = nil,
        pollMultiple: Int = 1,
        description: String? = nil,
        tiers: Set<String>? = nil
    ) {
        self.name = name
        self.role = role
        self.kind = kind
        self.address = address
        self.type = type
        self.wordOrder = wordOrder
        self.scale = scale
        self.offset = offset
        self.unit = unit
        self.scaleFactorPoint = scaleFactorPoint
        self.notImplemented = notImplemented
        self.pollMultiple = pollMultiple
        self.description = description
        self.tiers = tiers
    }

    /// Number of registers (or bits) this point occupies.
    public var registerCount: Int { kind.isBitTable ? 1 : type.registerCount }
    /// One past the last register (or bit) of this point.
    public var endAddress: Int { address + registerCount }
}
