import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Files written so that a crash leaves either the old content or the new, never a torn one:
/// a temporary file in the same directory, written and fsynced, renamed over the target, and
/// the directory fsynced (the rename itself is durable).
enum AtomicFile {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func write(_ data: Data, to path: String, mode: mode_t = 0o600) throws(Failure) {
        let directory = (path as NSString).deletingLastPathComponent
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw Failure(description: "cannot create \(temporary): \(errnoText())") }
        // O_CREAT applies `mode` only to a new file, and the umask narrows it: set it outright.
        _ = fchmod(fd, mode)
        var ok = data.withUnsafeBytes { buffer -> Bool in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                offset += written
            }
            return true
        }
        var reason = ok ? "" : "write: \(errnoText())"
        if ok, fsync(fd) != 0 {
            ok = false
            reason = "fsync: \(errnoText())"
        }
        close(fd)
        guard ok else {
            unlink(temporary)
            throw Failure(description: "cannot write \(path): \(reason)")
        }
        guard rename(temporary, path) == 0 else {
            let text = errnoText()
            unlink(temporary)
            throw Failure(description: "cannot rename \(temporary) to \(path): \(text)")
        }
        syncDirectory(directory)
    }

    /// Makes a rename or an unlink in `directory` durable.
    static func syncDirectory(_ directory: String) {
        let fd = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }

    /// Creates `path` (and its parents) with `mode` when missing.
    static func makeDirectory(_ path: String, mode: Int = 0o700) throws(Failure) {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: mode])
        } catch {
            throw Failure(description: "cannot create directory \(path): \(error.localizedDescription)")
        }
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }
}
