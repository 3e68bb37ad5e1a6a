import FuzzDriver
import FuzzProperties

@_cdecl("FuzzRTP_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(.rtp, argc, argv)
}
