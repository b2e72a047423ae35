import ESSCore

/// The engineering value of one point as a device serves it: a number, a text, or nothing
/// (the point reads as "not implemented"). Encodes to JSON as a number, a string or null.
public enum PointValue: Sendable, Hashable, Codable, CustomStringConvertible {
    case number(Double)
    case text(String)
    case missing

    public var number: Double? {
        if case .number(let v) = self { return v }
        return nil
    }

    public var text: String? {
        if case .text(let t) = self { return t }
        return nil
    }

    public var description: String {
        switch self {
        case .number(let v): String(v)
        case .text(let t): "\"\(t)\""
        case .missing: "null"
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .missing
        } else if let v = try? container.decode(Double.self) {
            self = .number(v)
        } else {
            self = .text(try container.decode(String.self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .number(let v) where v.isFinite: try container.encode(v)
        case .number, .missing: try container.encodeNil()
        case .text(let t): try container.encode(t)
        }
    }
}
