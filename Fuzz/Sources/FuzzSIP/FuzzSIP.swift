import FuzzDriver
import FuzzProperties

@_cdecl("FuzzSIP_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(.sip, argc, argv)
}
