internal import CModbus
import ESSCore

/// One served device on the server thread: its register image, the libmodbus mapping the
/// image is copied into, its faults, counter baseline and statistics. Confined to the
/// server thread; owns and frees the mapping.
final class DeviceSlot {
    let device: DeviceDefinition
    let source: PointValueSource
    private(set) var image: RegisterImage
    let mapping: UnsafeMutablePointer<modbus_mapping_t>
    var faults = DeviceFaults()
    var baseline = DeviceCounterBaseline()
    var statistics = SimulatorStatistics.Device()

    init?(device: DeviceDefinition, parameters: PlantParameters) {
        self.device = device
        self.source = PointValueSource(device: device, parameters: parameters)
        let image = RegisterImage(profile: device.profile)
        self.image = image
        func bounds(_ kind: RegisterKind) -> (Int32, Int32) {
            guard let block = image.blocks[kind] else { return (0, 0) }
            return (Int32(block.startAddress), Int32(block.words.count))
        }
        let (coilStart, coilCount) = bounds(.coil)
        let (discreteStart, discreteCount) = bounds(.discrete)
        let (holdingStart, holdingCount) = bounds(.holding)
        let (inputStart, inputCount) = bounds(.input)
        // modbus_mapping_new_start_address: requests outside start ..< start + count get
        // exception 2 (illegal data address) from modbus_reply.
        guard
            let mapping = modbus_mapping_new_start_address(
                UInt32(coilStart), UInt32(coilCount), UInt32(discreteStart), UInt32(discreteCount),
                UInt32(holdingStart), UInt32(holdingCount), UInt32(inputStart), UInt32(inputCount))
        else { return nil }
        self.mapping = mapping
    }

    deinit { modbus_mapping_free(mapping) }

    /// Renders the image from the plant and copies it into the mapping.
    func refresh(plant: PlantState) {
        image.render(profile: device.profile, values: source.values(plant: plant, baseline: baseline), scaleFactors: source.scaleFactors)
        let m = mapping.pointee
        for (kind, block) in image.blocks {
            switch kind {
            case .holding: copy(block.words, to: m.tab_registers)
            case .input: copy(block.words, to: m.tab_input_registers)
            case .coil: copyBits(block.words, to: m.tab_bits)
            case .discrete: copyBits(block.words, to: m.tab_input_bits)
            }
        }
    }

    /// Every point's value as served, decoded back from the image.
    func servedValues() -> [String: PointValue] {
        let values = image.decode(profile: device.profile)
        var result: [String: PointValue] = [:]
        for (point, value) in zip(device.profile.points, values) { result[point.name] = value }
        return result
    }

    private func copy(_ words: [UInt16], to table: UnsafeMutablePointer<UInt16>?) {
        guard let table else { return }
        for (i, word) in words.enumerated() { table[i] = word }
    }

    private func copyBits(_ words: [UInt16], to table: UnsafeMutablePointer<UInt8>?) {
        guard let table else { return }
        for (i, word) in words.enumerated() { table[i] = word != 0 ? 1 : 0 }
    }
}
