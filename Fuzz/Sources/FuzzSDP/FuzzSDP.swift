import FuzzDriver
import FuzzProperties

@_cdecl("FuzzSDP_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(.sdp, argc, argv)
}
