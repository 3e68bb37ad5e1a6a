import FuzzDriver
import FuzzProperties

@_cdecl("FuzzRTCP_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(.rtcp, argc, argv)
}
