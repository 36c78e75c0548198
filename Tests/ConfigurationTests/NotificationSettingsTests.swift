import Foundation
import Testing

@testable import Configuration

@Suite struct NotificationSettingsTests {
    static func yaml(_ notifications: String) -> String {
        ConfigurationLoaderTests.minimal + "\nnotifications:\n" + notifications
    }

    @Test func anEndpointHasTheDocumentedDefaults() throws {
        let config = try ConfigurationLoader.parse(
            yaml: Self.yaml(
                """
                  - url: https://hooks.example.com/latchkey
                    secret: {env: NOTIFY_SECRET}
                """))
        let endpoint = try #require(config.notifications.first)
        #expect(endpoint.url == "https://hooks.example.com/latchkey")
        #expect(endpoint.secret == .environment("NOTIFY_SECRET"))
        #expect(endpoint.events == NotificationSettings.allEvents)
        #expect(endpoint.includePIN == false)
        #expect(endpoint.timeoutSeconds == 10)
        #expect(endpoint.maxBackoffSeconds == 3_600)
        #expect(endpoint.retryHours == 72)
        #expect(try ConfigurationLoader.parse(yaml: ConfigurationLoaderTests.minimal).notifications.isEmpty)
    }

    @Test func everyProblemIsNamedWithItsKey() {
        do {
            _ = try ConfigurationLoader.parse(
                yaml: Self.yaml(
                    """
                      - url: ftp://hooks.example.com
                        secret: {env: NOTIFY_SECRET}
                        events: [access.ready, access.gone]
                        retry_hours: 12
                        include_pin: maybe
                      - url: https://hooks.example.com
                        sekret: {env: X}
                    """))
            Issue.record("a bad notifications list was accepted")
        } catch {
            let keys = Set(error.problems.map(\.key))
            #expect(keys.isSuperset(of: ["notifications[0].url", "notifications[0].events"]))
            #expect(keys.isSuperset(of: ["notifications[0].retry_hours", "notifications[0].include_pin"]))
            #expect(keys.isSuperset(of: ["notifications[1].sekret", "notifications[1]"]))
            #expect(error.description.contains("access.gone"))
        }
    }
}
