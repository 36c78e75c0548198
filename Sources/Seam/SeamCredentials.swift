import Foundation

/// How the client authenticates to Seam. The secret never appears in a description, a log line or an error.
///
/// Two schemes are supported:
/// - an API key (`seam_…`), sent as `Authorization: Bearer <key>`; bound to one workspace;
/// - a personal access token (`seam_at…`) plus a workspace id, sent as `Authorization: Bearer <token>`
///   and `seam-workspace: <workspace_id>`.
package struct SeamCredentials: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    /// Which scheme the secret belongs to.
    package enum Scheme: Sendable, Equatable {
        /// An API key (`SEAM_API_KEY`).
        case apiKey
        /// A personal access token (`SEAM_PERSONAL_ACCESS_TOKEN`) scoped to the given workspace (`SEAM_WORKSPACE_ID`).
        case personalAccessToken(workspaceID: String)
    }

    /// The scheme.
    package let scheme: Scheme
    /// The secret itself. Package-visible only: the client puts it in the `Authorization` header and nowhere else.
    package let secret: String

    /// Credentials for an API key.
    /// - Parameter apiKey: The key, e.g. `seam_test2bMS_…`.
    /// - Throws: ``SeamCredentialsError/malformed(source:)`` when the key is empty or contains whitespace.
    package init(apiKey: String) throws(SeamCredentialsError) {
        try self.init(secret: apiKey, scheme: .apiKey, source: "the API key")
    }

    /// Credentials for a personal access token in one workspace.
    /// - Parameters:
    ///   - personalAccessToken: The token, e.g. `seam_at…`.
    ///   - workspaceID: The workspace the calls act in (sent as `seam-workspace`).
    /// - Throws: ``SeamCredentialsError/malformed(source:)`` for an empty or whitespace-bearing token or workspace id.
    package init(personalAccessToken: String, workspaceID: String) throws(SeamCredentialsError) {
        guard Self.isWellFormed(workspaceID) else { throw .malformed(source: "the workspace id") }
        try self.init(
            secret: personalAccessToken,
            scheme: .personalAccessToken(workspaceID: workspaceID),
            source: "the personal access token"
        )
    }

    private init(secret: String, scheme: Scheme, source: String) throws(SeamCredentialsError) {
        guard Self.isWellFormed(secret) else { throw .malformed(source: source) }
        self.secret = secret
        self.scheme = scheme
    }

    private static func isWellFormed(_ value: String) -> Bool {
        !value.isEmpty && !value.contains(where: { $0.isWhitespace || $0.isNewline })
    }

    /// The headers that authenticate one call: `Authorization` and, for a token, `seam-workspace`.
    package var headers: [(name: String, value: String)] {
        var headers = [(name: "Authorization", value: "Bearer \(secret)")]
        if case .personalAccessToken(let workspaceID) = scheme {
            headers.append((name: "seam-workspace", value: workspaceID))
        }
        return headers
    }

    /// A description without the secret: the scheme and the secret's length only.
    package var description: String {
        switch scheme {
        case .apiKey:
            "SeamCredentials(api key, \(secret.count) characters, redacted)"
        case .personalAccessToken(let workspaceID):
            "SeamCredentials(personal access token, \(secret.count) characters, redacted; workspace \(workspaceID))"
        }
    }

    /// The same as ``description``: never the secret.
    package var debugDescription: String { description }

    /// Loads the credentials from a key file or the environment, in this order:
    /// 1. `keyFile`, when given: a file holding the API key (surrounding whitespace and a final newline are ignored);
    /// 2. `SEAM_API_KEY`;
    /// 3. `SEAM_API_KEY_FILE`: the path of such a file (for systemd credentials or container secrets);
    /// 4. `SEAM_PERSONAL_ACCESS_TOKEN` together with `SEAM_WORKSPACE_ID`.
    ///
    /// Setting both an API key (2 or 3) and a personal access token is refused as ambiguous.
    /// - Parameters:
    ///   - environment: The process environment (pass `ProcessInfo.processInfo.environment`).
    ///   - keyFile: An explicit key file path (e.g. from the command line); default `nil`.
    /// - Returns: The credentials.
    /// - Throws: ``SeamCredentialsError`` saying what is missing or wrong and what to set.
    package static func load(environment: [String: String], keyFile: String? = nil) throws(SeamCredentialsError)
        -> SeamCredentials
    {
        func value(_ name: String) -> String? {
            guard let raw = environment[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !raw.isEmpty else {
                return nil
            }
            return raw
        }
        if let keyFile {
            return try SeamCredentials(apiKey: readKeyFile(keyFile))
        }
        let token = value("SEAM_PERSONAL_ACCESS_TOKEN")
        let apiKey = value("SEAM_API_KEY")
        let apiKeyFile = value("SEAM_API_KEY_FILE")
        if token != nil, apiKey != nil || apiKeyFile != nil {
            throw .ambiguous
        }
        if let apiKey {
            return try SeamCredentials(apiKey: apiKey)
        }
        if let apiKeyFile {
            return try SeamCredentials(apiKey: readKeyFile(apiKeyFile))
        }
        if let token {
            guard let workspaceID = value("SEAM_WORKSPACE_ID") else { throw .missingWorkspace }
            return try SeamCredentials(personalAccessToken: token, workspaceID: workspaceID)
        }
        throw .missing
    }

    private static func readKeyFile(_ path: String) throws(SeamCredentialsError) -> String {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw .unreadableKeyFile(path: path, reason: (error as NSError).localizedDescription)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw .malformed(source: "the key file \(path) (not UTF-8 text)")
        }
        let key = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !key.isEmpty else { throw .emptyKeyFile(path: path) }
        return key
    }
}

/// Why Seam credentials or the endpoint could not be loaded. Messages name the variable or file to fix;
/// they never contain the secret.
package enum SeamCredentialsError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No credentials were found anywhere.
    case missing
    /// Both an API key and a personal access token were set.
    case ambiguous
    /// A personal access token was set without `SEAM_WORKSPACE_ID`.
    case missingWorkspace
    /// The key file could not be read.
    case unreadableKeyFile(path: String, reason: String)
    /// The key file holds nothing but whitespace.
    case emptyKeyFile(path: String)
    /// A secret or workspace id is empty or contains whitespace; `source` says which.
    case malformed(source: String)
    /// `SEAM_ENDPOINT` (or `SEAM_API_URL`) is not an absolute http(s) URL.
    case invalidEndpoint(variable: String, value: String)

    /// What was wrong and what to do.
    package var description: String {
        switch self {
        case .missing:
            "No Seam credentials: set SEAM_API_KEY (or SEAM_API_KEY_FILE, or pass a key file), "
                + "or SEAM_PERSONAL_ACCESS_TOKEN with SEAM_WORKSPACE_ID."
        case .ambiguous:
            "Both a Seam API key and a personal access token are set: unset one of SEAM_API_KEY/SEAM_API_KEY_FILE "
                + "or SEAM_PERSONAL_ACCESS_TOKEN."
        case .missingWorkspace:
            "SEAM_PERSONAL_ACCESS_TOKEN is set but SEAM_WORKSPACE_ID is not: a personal access token needs the "
                + "workspace id it acts in."
        case .unreadableKeyFile(let path, let reason):
            "Cannot read the Seam key file \(path): \(reason). Check the path and that this user may read it."
        case .emptyKeyFile(let path):
            "The Seam key file \(path) is empty: write the API key into it (one line)."
        case .malformed(let source):
            "Malformed Seam credentials: \(source) is empty or contains whitespace."
        case .invalidEndpoint(let variable, let value):
            "\(variable)=\(value) is not an absolute http(s) URL; use e.g. https://connect.getseam.com."
        }
    }
}
