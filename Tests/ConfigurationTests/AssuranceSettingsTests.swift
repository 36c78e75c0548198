import Configuration
import Testing

@Suite("assurance: the pre-arrival checks and the full reconciliation")
struct AssuranceSettingsTests {
    private static let base = """
        sources:
          native: {scheme: standard_webhooks, secrets: [{env: NATIVE_SECRET}]}
        properties:
          - {id: loft, name: Loft, time_zone: UTC, listings: {native: [L1]}, device_ids: [d1]}
        """

    @Test func absentMeansTheDocumentedDefaults() throws {
        let configuration = try ConfigurationLoader.parse(yaml: Self.base)
        #expect(configuration.assurance == AssuranceSettings())
        #expect(configuration.assurance.checkLeadHours == [48, 2])
        #expect(configuration.assurance.backupCodeLeadMinutes == 60)
        #expect(configuration.assurance.recheckMinutes == 10)
        #expect(configuration.assurance.checkEverySeconds == 60)
        #expect(configuration.assurance.driftIntervalSeconds == 21_600)
    }

    @Test func everyKeyIsRead() throws {
        let configuration = try ConfigurationLoader.parse(
            yaml: Self.base + """

                assurance:
                  check_lead_hours: [72, 24, 3]
                  backup_code_lead_minutes: 90
                  recheck_minutes: 5
                  check_every_seconds: 30
                  drift_interval_seconds: 0
                """)
        #expect(configuration.assurance.checkLeadHours == [72, 24, 3])
        #expect(configuration.assurance.backupCodeLeadMinutes == 90)
        #expect(configuration.assurance.recheckMinutes == 5)
        #expect(configuration.assurance.checkEverySeconds == 30)
        #expect(configuration.assurance.driftIntervalSeconds == 0)
    }

    @Test func badValuesAndUnknownKeysNameTheKey() {
        #expect {
            try ConfigurationLoader.parse(
                yaml: Self.base + """

                    assurance:
                      check_lead_hours: [48, 0]
                      recheck_minutes: 0
                      drift_every: 5
                    """)
        } throws: { error in
            let text = "\(error)"
            return text.contains("assurance.check_lead_hours") && text.contains("assurance.recheck_minutes")
                && text.contains("drift_every")
        }
    }
}
