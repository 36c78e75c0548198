import CLibPQ
import Foundation
import Store

/// One parameter of a statement, always sent in binary format (`PQexecParams`/`PQexecPrepared` with format 1).
enum PGParameter {
    /// `text` (OID 25): the UTF-8 bytes.
    case text(String)
    /// `bytea` (OID 17): the bytes as they are.
    case bytes([UInt8])
    /// `int8` (OID 20): eight bytes, big-endian.
    case int64(Int64)
    /// `float8` (OID 701): the IEEE 754 bits, big-endian.
    case float8(Double)
    /// SQL `NULL` of the type with this OID.
    case null(Oid)

    /// The type's OID.
    var oid: Oid {
        switch self {
        case .text: 25
        case .bytes: 17
        case .int64: 20
        case .float8: 701
        case .null(let oid): oid
        }
    }

    /// A `float8` parameter, or `NULL` for nil.
    static func float8(orNull value: Double?) -> PGParameter { value.map(PGParameter.float8) ?? .null(701) }

    /// Whether it is SQL `NULL` (sent as a null value pointer).
    var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// Appends the binary representation to `buffer`.
    func append(to buffer: inout [UInt8]) {
        switch self {
        case .text(let text): buffer.append(contentsOf: text.utf8)
        case .bytes(let bytes): buffer.append(contentsOf: bytes)
        case .int64(let value): withUnsafeBytes(of: value.bigEndian) { buffer.append(contentsOf: $0) }
        case .float8(let value): withUnsafeBytes(of: value.bitPattern.bigEndian) { buffer.append(contentsOf: $0) }
        case .null: break
        }
    }
}

/// A statement's result, in binary format; `PQclear`ed when released.
final class PGResult {
    private let result: OpaquePointer

    init(_ result: OpaquePointer) { self.result = result }
    deinit { PQclear(result) }

    /// Rows returned.
    var rowCount: Int { Int(PQntuples(result)) }

    /// Rows affected by an INSERT/UPDATE/DELETE (`PQcmdTuples`), 0 when it says nothing.
    var affectedRows: Int { Int(String(cString: PQcmdTuples(result))) ?? 0 }

    /// The bytes of a column (text and bytea alike), or nil for NULL.
    func bytes(row: Int, column: Int) -> [UInt8]? {
        guard row < rowCount, PQgetisnull(result, Int32(row), Int32(column)) == 0 else { return nil }
        let length = Int(PQgetlength(result, Int32(row), Int32(column)))
        guard length > 0, let value = PQgetvalue(result, Int32(row), Int32(column)) else { return [] }
        return value.withMemoryRebound(to: UInt8.self, capacity: length) {
            Array(UnsafeBufferPointer(start: $0, count: length))
        }
    }

    /// A text column, or nil for NULL.
    func string(row: Int, column: Int) -> String? {
        bytes(row: row, column: column).map { String(decoding: $0, as: UTF8.self) }
    }

    /// An `int8` column (binary), or nil for NULL.
    func int64(row: Int, column: Int) -> Int64? {
        guard let bytes = bytes(row: row, column: column), bytes.count == 8 else { return nil }
        return bytes.reduce(Int64(0)) { $0 << 8 | Int64($1) }
    }

    /// An `int4` column (binary), or nil for NULL.
    func int32(row: Int, column: Int) -> Int32? {
        guard let bytes = bytes(row: row, column: column), bytes.count == 4 else { return nil }
        return bytes.reduce(Int32(0)) { $0 << 8 | Int32($1) }
    }
}

/// One libpq connection (`PGconn`), used by one thread at a time: a pool thread `lk-pg-N` owns it for its life
/// (``ConnectionPool``), or a CLI command for the length of a command.
///
/// Every call blocks until the server answers. Failures are ``StoreError``s carrying the SQLSTATE: a lost
/// connection (``isBroken``), SQLSTATE class 08 or the server shutting down (57P01–57P03) is
/// ``StoreError/Code/unavailable``; anything else ``StoreError/Code/database``.
final class PGConnection: @unchecked Sendable {
    private let connection: OpaquePointer
    private var prepared: Set<String> = []

    /// Connects, then sets the session up: `synchronous_commit` on (a `COMMIT` returns once its WAL is flushed,
    /// and on synchronous standbys when the server has any), and `statement_timeout`.
    /// - Parameters:
    ///   - url: A libpq connection string or URI; TLS settings (`sslmode`, `sslrootcert`, …) pass through as they are,
    ///     and its keepalive settings override the defaults here.
    ///   - connectTimeoutSeconds: libpq's `connect_timeout`, in seconds.
    ///   - statementTimeoutSeconds: The server's `statement_timeout`, in seconds (0: none).
    /// - Throws: ``StoreError/Code/unavailable`` naming libpq's reason (never the password).
    init(url: String, connectTimeoutSeconds: Int, statementTimeoutSeconds: Int) throws(StoreError) {
        // Before `dbname`, so a value in the URL wins: TCP keepalives (idle 30 s, every 10 s, 3 probes) and
        // tcp_user_timeout 30 s, so a database host gone without a reset fails a query in about a minute instead
        // of the kernel's 15 (ignored on a Unix socket). After it, so they win: the timeout and our name.
        let keywords = [
            "keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count", "tcp_user_timeout", "dbname",
            "connect_timeout", "application_name",
        ]
        let values = ["1", "30", "10", "3", "30000", url, "\(connectTimeoutSeconds)", "latchkey"]
        let connection = withCStrings(keywords) { keywordPointers in
            withCStrings(values) { valuePointers in PQconnectdbParams(keywordPointers, valuePointers, 1) }
        }
        guard let connection else {
            throw StoreError(.unavailable, "libpq could not allocate a connection (out of memory)")
        }
        guard PQstatus(connection) == CONNECTION_OK else {
            let reason = Self.trimmed(PQerrorMessage(connection))
            PQfinish(connection)
            throw StoreError(
                .unavailable,
                "cannot connect to PostgreSQL: \(reason); check store.postgresql.url and that the server is up")
        }
        self.connection = connection
        // The server's notices and warnings ("terminating connection due to …") would go to stderr, unformatted:
        // the store reports what matters itself, in its log lines.
        PQsetNoticeProcessor(connection, { _, _ in }, nil)
        try execute("SET synchronous_commit TO on")
        try execute("SET statement_timeout TO \(statementTimeoutSeconds * 1000)")
    }

    deinit { PQfinish(connection) }

    /// Whether the connection is lost (the server went away): drop it and connect anew.
    var isBroken: Bool { PQstatus(connection) != CONNECTION_OK }

    /// Whether a transaction is open (or failed and not yet rolled back).
    var isInTransaction: Bool {
        let status = PQtransactionStatus(connection)
        return status == PQTRANS_INTRANS || status == PQTRANS_INERROR
    }

    /// Runs SQL without parameters (one or more statements, text results).
    /// - Parameter sql: The statements.
    /// - Returns: The last statement's result.
    @discardableResult
    func execute(_ sql: String) throws(StoreError) -> PGResult {
        try check(PQexec(connection, sql), what: "statement")
    }

    /// Runs one statement with binary parameters and results (`PQexecParams`).
    /// - Parameters:
    ///   - sql: The statement, with `$1`, `$2`, … for the parameters.
    ///   - parameters: The parameters.
    @discardableResult
    func execute(_ sql: String, _ parameters: [PGParameter]) throws(StoreError) -> PGResult {
        let result = withParameters(parameters) { count, types, values, lengths, formats in
            PQexecParams(connection, sql, count, types, values, lengths, formats, 1)
        }
        return try check(result, what: "statement")
    }

    /// Runs a statement prepared once per connection (`PQprepare` on first use, then `PQexecPrepared`), with
    /// binary parameters and results.
    /// - Parameters:
    ///   - statement: The statement's name and SQL.
    ///   - parameters: The parameters.
    @discardableResult
    func execute(_ statement: PGStatement, _ parameters: [PGParameter]) throws(StoreError) -> PGResult {
        if !prepared.contains(statement.name) {
            let types = parameters.map(\.oid)
            let result = types.withUnsafeBufferPointer { types in
                PQprepare(connection, statement.name, statement.sql, Int32(types.count), types.baseAddress)
            }
            _ = try check(result, what: "prepare \(statement.name)")
            prepared.insert(statement.name)
        }
        let result = withParameters(parameters) { count, _, values, lengths, formats in
            PQexecPrepared(connection, statement.name, count, values, lengths, formats, 1)
        }
        return try check(result, what: statement.name)
    }

    /// Rolls back an open transaction, ignoring a failure (the connection is dropped if it is broken).
    func rollbackQuietly() {
        guard !isBroken, isInTransaction else { return }
        _ = try? execute("ROLLBACK")
    }

    /// Turns a result into a ``PGResult`` or the ``StoreError`` it reports.
    private func check(_ result: OpaquePointer?, what: String) throws(StoreError) -> PGResult {
        guard let result else {
            throw StoreError(
                .unavailable, "PostgreSQL did not answer (\(what)): \(Self.trimmed(PQerrorMessage(connection)))")
        }
        let status = PQresultStatus(result)
        if status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY {
            return PGResult(result)
        }
        let sqlState = PQresultErrorField(result, sqlStateField).map { String(cString: $0) }
        let message = Self.trimmed(PQresultErrorMessage(result))
        PQclear(result)
        let lost =
            isBroken || sqlState == nil || sqlState?.hasPrefix("08") == true
            || ["57P01", "57P02", "57P03"].contains(sqlState ?? "")
        throw StoreError(
            lost ? .unavailable : .database,
            "PostgreSQL refused \(what): \(message)"
                + (lost ? "; the connection is re-made on the next use" : ""),
            sqlState: sqlState)
    }

    private static func trimmed(_ message: UnsafePointer<CChar>?) -> String {
        guard let message else { return "no message" }
        return String(cString: message).trimmingCharacters(in: .whitespacesAndNewlines).replacingNewlines()
    }

    /// Lays the parameters out in one buffer and calls `body` with libpq's arrays.
    private func withParameters(
        _ parameters: [PGParameter],
        _ body: (
            Int32, UnsafePointer<Oid>?, UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int32>?,
            UnsafePointer<Int32>?
        ) -> OpaquePointer?
    ) -> OpaquePointer? {
        var buffer: [UInt8] = []
        var offsets: [Int] = []
        var lengths: [Int32] = []
        for parameter in parameters {
            let start = buffer.count
            parameter.append(to: &buffer)
            offsets.append(start)
            lengths.append(Int32(buffer.count - start))
        }
        buffer.append(0)  // never empty, so it has an address
        let types = parameters.map(\.oid)
        let formats = [Int32](repeating: 1, count: parameters.count)
        return buffer.withUnsafeBufferPointer { raw in
            let base = UnsafeRawPointer(raw.baseAddress!).assumingMemoryBound(to: CChar.self)
            let values: [UnsafePointer<CChar>?] = offsets.indices.map { index in
                parameters[index].isNull ? nil : base + offsets[index]
            }
            return body(Int32(parameters.count), types, values, lengths, formats)
        }
    }
}

/// A statement prepared by name on each connection that runs it.
struct PGStatement: Sendable {
    /// The name given to `PQprepare`.
    let name: String
    /// The SQL, with `$1`, `$2`, ….
    let sql: String
}

/// `PG_DIAG_SQLSTATE` (`'C'`), a macro Swift does not import.
private let sqlStateField = Int32(UInt8(ascii: "C"))

/// Calls `body` with a NULL-terminated array of C strings.
private func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    let copies = strings.map { strdup($0) }
    defer { for copy in copies { free(copy) } }
    let pointers: [UnsafePointer<CChar>?] = copies.map { UnsafePointer($0) } + [nil]
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}

extension String {
    /// The text on one line (libpq's messages span several: "FATAL: …\nDETAIL: …").
    fileprivate func replacingNewlines() -> String {
        split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}
