import FuzzProperties

/// The target this process fuzzes; set once by `runFuzzer` before libFuzzer starts calling
/// back (a C callback cannot capture it).
nonisolated(unsafe) private var selectedTarget: FuzzTarget?

/// libFuzzer's entry point: one input, checked against the selected target's properties.
/// A violated property is a finding, so it must crash the process (libFuzzer then saves the
/// input as `crash-<sha1>`); an input the parser merely refuses is fine.
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let target = selectedTarget else { fatalError("runFuzzer was not called") }
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    if case .violated(let why) = target.check(bytes) {
        fatalError("\(target.name) property violated: \(why)")
    }
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// Runs libFuzzer's driver with the process's arguments (`-max_total_time=600 corpus/`, ...).
public func runFuzzer(
    _ target: FuzzTarget, _ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> CInt {
    selectedTarget = target
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv, testOneInput)
}
