import ESSCore

/// The register contents of one device: for each table its points use, a block of words
/// from the lowest mapped address to one past the highest (bit tables: one word, 0 or 1,
/// per bit). Pure; the server copies it into a libmodbus mapping.
public struct RegisterImage: Sendable, Hashable {
    /// One table's block.
    public struct Block: Sendable, Hashable {
        public var startAddress: Int
        public var words: [UInt16]

        public var endAddress: Int { startAddress + words.count }
    }

    /// Blocks by table; a table no point uses has no block.
    public private(set) var blocks: [RegisterKind: Block]

    /// An all-zero image sized for the profile's points.
    public init(profile: RegisterProfile) {
        var blocks: [RegisterKind: Block] = [:]
        for kind in RegisterKind.allCases {
            let points = profile.points.filter { $0.kind == kind }
            guard let low = points.map(\.address).min(), let high = points.map(\.endAddress).max() else { continue }
            blocks[kind] = Block(startAddress: low, words: [UInt16](repeating: 0, count: high - low))
        }
        self.blocks = blocks
    }

    /// The word at `address` of `kind`, nil outside the image.
    public func word(_ kind: RegisterKind, _ address: Int) -> UInt16? {
        guard let block = blocks[kind], address >= block.startAddress, address < block.endAddress else { return nil }
        return block.words[address - block.startAddress]
    }

    /// Writes every point's value, encoded with `RegisterEncoder` (type, word order, scale,
    /// offset, scale factor). Registers no point maps are 0. `.bit(n)` points are OR-ed into
    /// their register after all other points, so several bit points can share one register.
    public mutating func render(profile: RegisterProfile, values: [PointValue], scaleFactors: ScaleFactorPlan) {
        for kind in blocks.keys {
            for i in blocks[kind]!.words.indices { blocks[kind]!.words[i] = 0 }
        }
        let order = profile.points.indices.sorted { a, b in
            (Self.isBitInRegister(profile.points[a]) ? 1 : 0, a) < (Self.isBitInRegister(profile.points[b]) ? 1 : 0, b)
        }
        for i in order {
            let point = profile.points[i]
            let words: [UInt16]
            switch values[i] {
            case .text(let text): words = RegisterEncoder.words(point, text: text)
            case .number(let v): words = RegisterEncoder.words(point, value: v, scaleFactorExponent: scaleFactors.exponent(for: point))
            case .missing: words = Self.notImplementedWords(point)
            }
            guard var block = blocks[point.kind] else { continue }
            let base = point.address - block.startAddress
            for (k, word) in words.enumerated() where base + k < block.words.count {
                if Self.isBitInRegister(point) {
                    block.words[base + k] |= word
                } else {
                    block.words[base + k] = word
                }
            }
            blocks[point.kind] = block
        }
    }

    /// Decodes every point back from the image with `RegisterDecoder`, the way a poller would.
    public func decode(profile: RegisterProfile) -> [PointValue] {
        profile.points.map { point in
            guard let block = blocks[point.kind] else { return .missing }
            let offset = point.address - block.startAddress
            return block.words.withUnsafeBufferPointer { words in
                if case .string = point.type, !point.kind.isBitTable {
                    return .text(RegisterDecoder.decodeText(point, words: words, offset: offset))
                }
                var exponent: Int16? = nil
                if let sfName = point.scaleFactorPoint, let sf = profile.points.first(where: { $0.name == sfName }),
                    let word = self.word(sf.kind, sf.address)
                {
                    exponent = Int16(bitPattern: word)
                }
                if let v = RegisterDecoder.decodeNumber(point, words: words, offset: offset, scaleFactorExponent: exponent) {
                    return .number(v)
                }
                return .missing
            }
        }
    }

    static func isBitInRegister(_ point: PointDefinition) -> Bool {
        if point.kind.isBitTable { return false }
        if case .bit = point.type { return true }
        return false
    }

    /// The registers of a point that says "not implemented": its sentinel, or NaN.
    static func notImplementedWords(_ point: PointDefinition) -> [UInt16] {
        switch point.notImplemented {
        case .rawBits(let bits): RegisterEncoder.words(point, rawBits: bits)
        case .nan, nil: RegisterEncoder.words(point, value: .nan)
        }
    }
}
