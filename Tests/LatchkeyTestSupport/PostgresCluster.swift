import Foundation
import Glibc
import Synchronization

/// A throwaway PostgreSQL server for tests: a cluster made with `initdb` in a temporary directory and started with
/// `pg_ctl`, listening only on a Unix socket in that directory (`listen_addresses=''`, so no port is taken). One per
/// test process, started on first use and stopped when the process exits; each test asks for a database of its own
/// (``makeDatabase()``).
///
/// Uses Debian's `postgresql` package (`/usr/lib/postgresql/15/bin`, or `LATCHKEY_PG_BIN`). `initdb` refuses to run
/// as root, so under root (CI) the server's programs run as the `postgres` user (`runuser -u postgres --`), which
/// is given the directory. When the programs are absent, ``unavailableReason`` says so and tests skip.
package final class PostgresCluster: Sendable {
    /// The directory holding the programs.
    package static let binDirectory =
        ProcessInfo.processInfo.environment["LATCHKEY_PG_BIN"] ?? "/usr/lib/postgresql/15/bin"

    /// Why no cluster can be started here, or nil when one can: tests skip with this message.
    package static let unavailableReason: String? = {
        for tool in ["initdb", "pg_ctl", "postgres", "createdb"]
        where !FileManager.default.isExecutableFile(atPath: binDirectory + "/" + tool) {
            return "PostgreSQL's \(tool) is not in \(binDirectory): install Debian's `postgresql` (scripts/setup test)"
        }
        if getuid() == 0 && getpwnam("postgres") == nil {
            return "running as root and there is no `postgres` user to run initdb as (install Debian's `postgresql`)"
        }
        return nil
    }()

    /// Whether a cluster can be started (see ``unavailableReason``).
    package static var isAvailable: Bool { unavailableReason == nil }

    /// The cluster of this test process, started on first use.
    /// - Throws: ``PostgresClusterError`` when initdb or pg_ctl fail (their output is in the message).
    package static func shared() throws -> PostgresCluster {
        try sharedCluster.withLock { cluster in
            if let cluster { return cluster }
            let started = try PostgresCluster()
            cluster = started
            atexit {
                guard let cluster = PostgresCluster.sharedCluster.withLock({ $0 }) else { return }
                try? cluster.stop(mode: "immediate")
                try? FileManager.default.removeItem(atPath: cluster.directory)
            }
            return started
        }
    }

    private static let sharedCluster = Mutex<PostgresCluster?>(nil)

    /// The temporary directory: `data/` (the cluster), the socket, `server.log`.
    package let directory: String
    /// The port number, which only names the socket file (`.s.PGSQL.<port>`).
    package let port = 5432
    private let databaseCounter = Mutex(0)

    /// Creates and starts a cluster in a new temporary directory.
    /// - Throws: ``PostgresClusterError`` when a program fails.
    package init() throws {
        // Short: a Unix socket's path is limited to 107 bytes.
        directory = "/tmp/lk-pg-" + UUID().uuidString.prefix(8).lowercased()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        if getuid() == 0, let user = getpwnam("postgres") {
            chown(directory, user.pointee.pw_uid, user.pointee.pw_gid)
        }
        try Self.runAsServerUser(
            "initdb", ["-D", directory + "/data", "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"])
        try start()
    }

    /// Starts the server (again, after ``stop(mode:)``), waiting until it accepts connections.
    /// - Throws: ``PostgresClusterError`` naming pg_ctl's output and the server log's tail.
    package func start() throws {
        let options = "-c listen_addresses='' -k \(directory) -p \(port) -c fsync=off -c max_connections=200"
        do {
            try Self.runAsServerUser(
                "pg_ctl", ["-D", directory + "/data", "-l", directory + "/server.log", "-o", options, "-w", "start"])
        } catch {
            let log = (try? String(contentsOfFile: directory + "/server.log", encoding: .utf8)) ?? ""
            throw PostgresClusterError(message: "\(error) — server.log: \(log.suffix(2000))")
        }
    }

    /// Stops the server.
    /// - Parameter mode: `fast` (clean) or `immediate` (as a crash would: no checkpoint, connections cut).
    package func stop(mode: String = "fast") throws {
        try Self.runAsServerUser("pg_ctl", ["-D", directory + "/data", "-m", mode, "-w", "stop"])
    }

    /// Creates an empty database of its own for one test.
    /// - Returns: Its libpq URI (`postgresql:///NAME?host=DIR&port=PORT&user=postgres`).
    package func makeDatabase() throws -> String {
        let number = databaseCounter.withLock { count in
            count += 1
            return count
        }
        let name = "lk_test_\(getpid())_\(number)"
        try Self.run(Self.binDirectory + "/createdb", ["-h", directory, "-p", "\(port)", "-U", "postgres", name])
        return url(database: name)
    }

    /// The URI of `database` on this cluster.
    package func url(database: String) -> String {
        "postgresql:///\(database)?host=\(directory)&port=\(port)&user=postgres"
    }

    /// Runs one of the server's programs, as `postgres` when this process is root.
    private static func runAsServerUser(_ tool: String, _ arguments: [String]) throws {
        if getuid() == 0 {
            try run("/usr/sbin/runuser", ["-u", "postgres", "--", binDirectory + "/" + tool] + arguments)
        } else {
            try run(binDirectory + "/" + tool, arguments)
        }
    }

    /// Runs a program to its end (`posix_spawn` and `waitpid`: Foundation's `Process` was seen missing the exit of
    /// `runuser`), its output going to a file that the error quotes.
    /// - Throws: ``PostgresClusterError`` with its output when it exits non-zero.
    private static func run(_ path: String, _ arguments: [String]) throws {
        let outputPath = "/tmp/lk-pg-out-\(getpid())-\(UUID().uuidString.prefix(8))"
        defer { unlink(outputPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for argument in argv { free(argument) } }
        var pid = pid_t()
        let spawned = posix_spawn(&pid, path, &actions, nil, argv, environ)
        guard spawned == 0 else {
            throw PostgresClusterError(message: "cannot run \(path): errno \(spawned)")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let exited = status & 0x7f == 0 && (status >> 8) & 0xff == 0
        guard exited else {
            let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
            throw PostgresClusterError(
                message: "\(path) \(arguments.joined(separator: " ")) failed (wait status \(status)): \(text)")
        }
    }
}

/// A program of the test cluster failed.
package struct PostgresClusterError: Error, CustomStringConvertible {
    /// The program, its arguments, exit status and output.
    package let message: String
    /// The message.
    package var description: String { message }
}
