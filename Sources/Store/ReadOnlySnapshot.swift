import SystemCalls

extension Store {
    /// Loads the committed entries of a data directory into memory without taking its lock and without
    /// changing any file, so it is safe on a running instance's directory (for on-call tools).
    ///
    /// A torn tail (a batch being written right now) is left out, as recovery would. When a compaction
    /// replaces the snapshot or removes a segment while this reads, the read starts over (up to 5 times).
    /// Idempotency keys are not returned.
    /// - Parameters:
    ///   - directory: The data directory.
    ///   - configuration: For the maximum record size and the clock; default configuration.
    /// - Returns: Every entry (key → value) as of the last synced batch that was read.
    /// - Throws: ``StoreError`` when the directory is missing or unreadable (``StoreError/Code/io``), the
    ///   snapshot is damaged, or a segment is damaged before its end (``StoreError/Code/corruptJournal``).
    package static func readOnlySnapshot(
        at directory: String, configuration: StoreConfiguration = StoreConfiguration()
    ) throws(StoreError) -> [String: [UInt8]] {
        let dir = DataDirectory(path: directory)
        guard FileSystem.exists(dir.path) else {
            throw StoreError(
                .io, "the data directory does not exist; check the path", path: dir.path, errno: .noSuchFileOrDirectory)
        }
        var attempt = 0
        while true {
            attempt += 1
            do throws(StoreError) {
                let recovered = try Recovery.load(
                    dir, now: configuration.clock(), maxPayload: configuration.maxRecordBytes)
                if let damaged = recovered.middleDamage, let damage = damaged.damage {
                    throw StoreError.corruptJournal(path: damaged.path, damage: damage)
                }
                return Dictionary(uniqueKeysWithValues: recovered.state.entries.lazy.map { ($0.key, $0.value) })
            } catch {
                // A file vanished under us: a compaction ran. Read again from the new snapshot.
                guard error.errno == .noSuchFileOrDirectory, attempt < 5 else { throw error }
            }
        }
    }
}
