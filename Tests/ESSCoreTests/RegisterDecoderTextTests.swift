import ESSCore
import ESSTestSupport
import Testing

@Suite("RegisterDecoder: strings")
struct RegisterDecoderTextTests {
    func point(_ registers: Int, _ order: WordOrder = .abcd) -> PointDefinition {
        PointDefinition(name: "s", role: .identity, address: 0, type: .string(registers: registers), wordOrder: order)
    }

    @Test("two bytes per register, high byte first, NUL padding removed")
    func nulPadded() {
        // "ESS-01" = 45 53 53 2D 30 31, then NULs.
        #expect(decodeText(point(4), [0x4553, 0x532D, 0x3031, 0x0000]) == "ESS-01")
        #expect(decodeText(point(4), [0x4553, 0x532D, 0x3031, 0x3200]) == "ESS-012")
        #expect(decodeText(point(2), [0x0000, 0x0000]) == "")
    }

    @Test("trailing spaces are removed, leading and inner spaces kept")
    func trailingSpaces() {
        #expect(decodeText(point(2), [0x4142, 0x2020]) == "AB")
        #expect(decodeText(point(4), [0x4142, 0x2020, 0x0000, 0x0000]) == "AB")
        #expect(decodeText(point(2), [0x2041, 0x2042]) == " A B")
        #expect(decodeText(point(2), [0x2020, 0x2020]) == "")
    }

    @Test("the first NUL ends the text")
    func embeddedNul() {
        #expect(decodeText(point(2), [0x4100, 0x4243]) == "A")
    }

    @Test("BADC and DCBA swap the bytes of every register", arguments: [WordOrder.badc, .dcba])
    func byteSwap(_ order: WordOrder) {
        #expect(decodeText(point(4, order), [0x5345, 0x2D53, 0x3130, 0x0000]) == "ESS-01")
        #expect(decodeText(point(2, order), [0x4241, 0x2020]) == "AB")
    }

    @Test("CDAB leaves a string's registers in order")
    func cdabIsPlain() {
        #expect(decodeText(point(4, .cdab), [0x4553, 0x532D, 0x3031, 0x0000]) == "ESS-01")
    }

    @Test("UTF-8 is decoded and invalid bytes repaired")
    func utf8() {
        // "°C" = C2 B0 43
        #expect(decodeText(point(2), [0xC2B0, 0x4300]) == "°C")
        #expect(decodeText(point(1), [0xFF41]) == "\u{FFFD}A")
    }

    @Test("encoder and decoder round-trip printable ASCII in every order (seeded)")
    func roundTrip() {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_ ./")
        for seed in UInt64(1)...300 {
            var rng = SplitMix64(seed: seed)
            let registers = Int.random(in: 1...8, using: &rng)
            let order = WordOrder.allCases.randomElement(using: &rng)!
            let length = Int.random(in: 0...(registers * 2), using: &rng)
            var text = String((0..<length).map { _ in alphabet.randomElement(using: &rng)! })
            while text.last == " " { text.removeLast() }
            let p = point(registers, order)
            let words = RegisterEncoder.words(p, text: text)
            #expect(words.count == registers, "seed \(seed)")
            #expect(decodeText(p, words) == text, "seed \(seed): '\(text)' \(order.rawValue)")
        }
    }

    @Test("the encoder truncates text longer than the point")
    func truncation() {
        let p = point(2)
        #expect(RegisterEncoder.words(p, text: "ABCDEF") == [0x4142, 0x4344])
        #expect(RegisterEncoder.words(p, text: "A") == [0x4100, 0x0000])
        #expect(RegisterEncoder.words(point(2, .badc), text: "A") == [0x0041, 0x0000])
    }
}
