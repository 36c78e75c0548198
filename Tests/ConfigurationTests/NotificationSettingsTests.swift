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

    @Test func aPINOverCleartextHTTPAndASecondEntryForOneURLAreRefused() {
        do {
            _ = try ConfigurationLoader.parse(
                yaml: Self.yaml(
                    """
                      - url: http://hooks.example.com/latchkey
                        secret: {env: NOTIFY_SECRET}
                        include_pin: true
                      - url: https://hooks.example.com/a
                        secret: {env: NOTIFY_SECRET}
                      - url: https://hooks.example.com/a
                        secret: {env: NOTIFY_SECRET}
                        events: [access.failed]
                    """))
            Issue.record("a PIN over http:// and a repeated URL were accepted")
        } catch {
            #expect(error.description.contains("include_pin: true needs an https:// URL"))
            #expect(error.description.contains("a second endpoint for https://hooks.example.com/a"))
        }
        // To this machine, http:// is fine (a local relay, the checks' receivers).
        #expect(
            (try? ConfigurationLoader.parse(
                yaml: Self.yaml(
                    """
                      - url: http://127.0.0.1:9000/latchkey
                        secret: {env: NOTIFY_SECRET}
                        include_pin: true
                    """))) != nil)
    }
}

@Suite struct NotificationCheckTests {
    @Test func checkConfigNamesAnEndpointSecretThatIsUnsetOrNotWhsec() throws {
        let config = try ConfigurationLoader.parse(
            yaml: NotificationSettingsTests.yaml(
                """
                  - url: https://hooks.example.com/a
                    secret: {env: NOTIFY_A}
                  - url: https://hooks.example.com/b
                    secret: {env: NOTIFY_B}
                """))
        let findings = ConfigurationCheck(
            config, environment: ["NATIVE_SECRET": "whsec_bGF0Y2hrZXk=", "NOTIFY_B": "not-a-secret!"]
        ).findings
        #expect(findings.contains { $0.key == "notifications[0].secret" && $0.severity == .error })
        #expect(findings.contains { $0.key == "notifications[1].secret" && $0.message.contains("whsec_") })
        let good = ConfigurationCheck(
            config,
            environment: [
                "NATIVE_SECRET": "whsec_bGF0Y2hrZXk=", "NOTIFY_A": "whsec_bGF0Y2hrZXk=",
                "NOTIFY_B": "whsec_bGF0Y2hrZXk=",
            ])
        #expect(!good.findings.contains { $0.key.hasPrefix("notifications") })
    }
}
