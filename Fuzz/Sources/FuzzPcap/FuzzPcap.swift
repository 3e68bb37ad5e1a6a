import FuzzDriver
import FuzzProperties

@_cdecl("FuzzPcap_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(.pcap, argc, argv)
}
