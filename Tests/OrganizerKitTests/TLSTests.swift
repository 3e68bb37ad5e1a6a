import AsyncHTTPClient
import EarshotStore
import EarshotWire
import Foundation
import InteropTestSupport
import NIOCore
import NIOHTTP1
import NIOSSL
import OrganizerKit
import Testing

/// The API over TLS with a self-signed certificate made by openssl.
@Suite struct TLSTests {
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl")))
    func apiOverTLS() async throws {
        let dir = try ScratchDirectory(prefix: "organizer-tls")
        let cert = dir.path("cert.pem"), key = dir.path("key.pem")
        let openssl = try SpawnedProcess("/usr/bin/openssl", [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1",
        ], outputPath: dir.path("openssl.out"), errorPath: dir.path("openssl.err"))
        let end = ContinuousClock.now + .seconds(30)
        while !openssl.hasExited, ContinuousClock.now < end { try await Task.sleep(for: .milliseconds(20)) }
        #expect(openssl.exitCode == 0, "\(openssl.errors)")

        var config = OrganizerConfiguration(host: "127.0.0.1", port: 0, adminTokens: [TestOrganizer.admin])
        config.firstRoundDelay = .seconds(3600)
        config.tls = .init(certificate: cert, key: key)
        let running = try await Organizer.start(configuration: config, storage: try SQLiteStorage.temporary())
        #expect(running.baseURL.hasPrefix("https://127.0.0.1:"))

        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .file(cert)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: tls))
        var request = HTTPClientRequest(url: running.baseURL + "/v1/status")
        request.headers.add(name: "Authorization", value: "Bearer \(TestOrganizer.admin)")
        do {
            let response = try await client.execute(request, timeout: .seconds(20))
            #expect(response.status.code == 200)
            let body = try await response.body.collect(upTo: 1 << 20)
            let status = try WireJSON.decoder().decode(StatusInfo.self, from: Data(body.readableBytesView))
            #expect(status.version == Organizer.version)
        } catch {
            try await client.shutdown()
            await running.shutdown()
            throw error
        }
        try await client.shutdown()
        await running.shutdown()
    }
}
