import Testing

@testable import Configuration

/// `store:`: flat files unless told otherwise; PostgreSQL needs its connection string.
@Suite struct StoreSettingsTests {
    @Test func withoutAStoreSectionTheJournalIsUsed() throws {
        let config = try ConfigurationLoader.parse(yaml: ConfigurationLoaderTests.minimal)
        #expect(config.store.backend == .flatFiles)
        #expect(config.store.postgresql == nil)
    }

    @Test func postgresqlWithItsURLAndTheDocumentedDefaults() throws {
        let config = try ConfigurationLoader.parse(
            yaml: ConfigurationLoaderTests.minimal + """

                store:
                  backend: postgresql
                  postgresql:
                    url: {env: LATCHKEY_DATABASE_URL}
                    pool_size: 3
                """)
        #expect(config.store.backend == .postgresql)
        let settings = try #require(config.store.postgresql)
        #expect(settings.url == .environment("LATCHKEY_DATABASE_URL"))
        #expect(settings.poolSize == 3)
        #expect(settings.connectTimeoutSeconds == 5)
        #expect(settings.statementTimeoutSeconds == 10)
    }

    @Test(arguments: [
        ("store: {backend: postgresql}", "backend postgresql needs"),
        ("store: {backend: mysql}", "unknown backend \"mysql\""),
        ("store: {backend: postgresql, postgresql: {pool_size: 2}}", "missing `url:`"),
        ("store: {postgresql: {url: {env: X}, pool: 2}}", "pool"),
        ("store: {backend: postgresql, postgresql: {url: {env: X}, pool_size: 0}}", "pool_size"),
        (
            "store: {backend: postgresql, postgresql: {url: {env: X}, standby: true}}",
            "`standby` is no longer used: every instance on the database serves at once"
        ),
    ])
    func aBadStoreSectionIsNamed(_ section: String, _ expected: String) {
        do {
            _ = try ConfigurationLoader.parse(yaml: ConfigurationLoaderTests.minimal + "\n" + section + "\n")
            Issue.record("accepted: \(section)")
        } catch {
            #expect(error.description.contains(expected), "\(error.description)")
        }
    }
}
