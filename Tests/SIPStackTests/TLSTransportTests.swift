import Foundation
import InteropTestSupport
import NIOPosix
import NIOSSL
import SIPCore
import SIPStack
import Testing

/// A private CA and a server certificate (for localhost, 127.0.0.1 and ::1 unless told
/// otherwise), made with the openssl command line for each test.
struct TestPKI {
    let directory: ScratchDirectory
    let ca: NIOSSLCertificate
    let serverConfiguration: TLSConfiguration

    init(subjectAltName: String = "DNS:localhost, IP:127.0.0.1, IP:::1") throws {
        directory = try ScratchDirectory(prefix: "sip-tls")
        let dir = directory
        _ = try dir.write(Array("""
            basicConstraints = CA:FALSE
            keyUsage = critical, digitalSignature
            extendedKeyUsage = serverAuth
            subjectAltName = \(subjectAltName)

            """.utf8), to: "server.ext")
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try TestPKI.openssl(["req", "-x509"] + ec + [
            "-keyout", dir.path("ca.key"), "-out", dir.path("ca.pem"), "-days", "2",
            "-subj", "/CN=Earshot Test CA",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        ], in: dir)
        try TestPKI.openssl(["req"] + ec + [
            "-keyout", dir.path("server.key"), "-out", dir.path("server.csr"), "-subj", "/CN=localhost",
        ], in: dir)
        try TestPKI.openssl([
            "x509", "-req", "-in", dir.path("server.csr"), "-CA", dir.path("ca.pem"), "-CAkey", dir.path("ca.key"),
            "-CAcreateserial", "-out", dir.path("server.pem"), "-days", "2", "-extfile", dir.path("server.ext"),
        ], in: dir)
        ca = try #require(try NIOSSLCertificate.fromPEMFile(dir.path("ca.pem")).first)
        serverConfiguration = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(dir.path("server.pem")).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: dir.path("server.key"), format: .pem)))
    }

    var trustingClient: TLSConfiguration { SIPTransportConfiguration.clientTLS(trustRoots: [ca]) }

    private static func openssl(_ arguments: [String], in directory: ScratchDirectory) throws {
        let process = try SpawnedProcess("/usr/bin/openssl", arguments,
                                         outputPath: directory.path("openssl.out"), errorPath: directory.path("openssl.err"))
        guard waitUntil(seconds: 30, { process.hasExited }) else {
            throw OpenSSLFailure("openssl \(arguments[0]) did not finish")
        }
        let output = arguments.firstIndex(of: "-out").map { arguments[$0 + 1] } ?? ""
        guard FileManager.default.fileExists(atPath: output) else {
            throw OpenSSLFailure("openssl \(arguments[0]) failed: \(process.errors)")
        }
    }
}

struct OpenSSLFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

@Suite("TLS transport")
struct TLSTransportTests {
    /// Request and response over TLS, the certificate checked against the destination's IP
    /// address (no server name) and then against "localhost" by SNI — two connections, since
    /// a connection verified for one name is not reused for another.
    @Test func requestAndResponseWithATestCA() async throws {
        let pki = try TestPKI()
        let server = try await Node.start([.tls], answering: true, tlsServer: pki.serverConfiguration)
        let client = try await Node.start([.tls], tlsServer: pki.serverConfiguration, tlsClient: pki.trustingClient)
        let port = server.port(.tls)
        try await client.layer.send(request(callID: "tls-ip@test", via: client.via(.tls, branch: "s1")),
                                    to: SIPDestination(host: "127.0.0.1", port: port, kind: .tls))
        try await client.layer.send(request(callID: "tls-name@test", via: client.via(.tls, branch: "s2")),
                                    to: SIPDestination(host: "127.0.0.1", port: port, kind: .tls, serverName: "localhost"))

        let responses = await client.inbox.first(2)
        #expect(responses.map { $0.response?.statusCode } == [200, 200])
        #expect(Set(responses.map { $0.response?.headers.values(.callID) ?? [] }) == [["tls-ip@test"], ["tls-name@test"]])
        let requests = await server.inbox.first(2)
        #expect(requests.map(\.kind) == [.tls, .tls])
        #expect(requests.first?.request?.headers.values(.via).first?.hasPrefix("SIP/2.0/TLS 127.0.0.1:\(client.port(.tls));") == true)
        #expect(client.layer.counters.connectionsOpened == 2)
        #expect(server.layer.counters.received == 2)
        await client.layer.stop()
        await server.layer.stop()
    }

    /// Certificate verification is on by default: a client that does not trust the test CA,
    /// or trusts it but expects a name the certificate does not carry, or connects by IP
    /// address to a certificate with no IP address, fails with `.tlsHandshakeFailed`.
    /// (NIOSSL accepts a certificate when either the name or the IP address matches, so this
    /// certificate names localhost only.) The same client reaching "localhost" succeeds.
    @Test func untrustedOrMismatchedCertificateFailsTheSend() async throws {
        let pki = try TestPKI(subjectAltName: "DNS:localhost")
        let server = try await Node.start([.tls], answering: true, tlsServer: pki.serverConfiguration)
        let port = server.port(.tls)
        let distrusting = try await Node.start([.udp])
        let trusting = try await Node.start([.tls], tlsServer: pki.serverConfiguration, tlsClient: pki.trustingClient)
        let message = try request(callID: "untrusted@test", via: trusting.via(.tls, branch: "u"))
        for (node, serverName) in [(distrusting, "localhost"), (trusting, "sip.example.com"), (trusting, nil)] as [(Node, String?)] {
            do {
                try await node.layer.send(message, to: SIPDestination(host: "127.0.0.1", port: port, kind: .tls, serverName: serverName))
                Issue.record("the send to \(serverName ?? "127.0.0.1") succeeded")
            } catch {
                #expect(error.code == .tlsHandshakeFailed)
            }
        }
        #expect(distrusting.layer.counters.sent == 0)
        #expect(trusting.layer.counters.sent == 0)
        #expect(server.inbox.all.isEmpty)

        try await trusting.layer.send(message, to: SIPDestination(host: "127.0.0.1", port: port, kind: .tls, serverName: "localhost"))
        #expect(await trusting.inbox.first(1).map { $0.response?.statusCode } == [200])
        #expect(server.layer.counters.received == 1)
        await distrusting.layer.stop()
        await trusting.layer.stop()
        await server.layer.stop()
    }

    @Test func aTLSListenerWithoutACertificateDoesNotStart() async throws {
        let layer = SIPTransportLayer(
            configuration: SIPTransportConfiguration(listeners: [SIPListenerConfiguration(kind: .tls, host: "127.0.0.1")]),
            group: .singletonMultiThreadedEventLoopGroup)
        await #expect(throws: SIPTransportError(.startFailed, "a TLS listener needs tlsServer")) {
            try await layer.start()
        }
        #expect(layer.boundListeners.isEmpty)
    }
}
