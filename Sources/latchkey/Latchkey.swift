import ArgumentParser

/// The `latchkey` command: booking webhooks in, linked Seam access codes out.

struct Latchkey: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "latchkey",
        abstract: "Keeps one linked group of Seam access codes in step with each booking from your PMS.",
        discussion: """
            Run `latchkey serve` to take webhooks (with no SEAM_API_KEY it runs against a built-in fake Seam \
            and says so), `latchkey demo` to watch a booking become a PIN on two locks, and \
            `latchkey check-config --config FILE` before deploying a configuration.
            """,
        subcommands: [
            Serve.self, Demo.self, CheckConfig.self, FakeSeamCommand.self,
            StoreCommand.self, OutboxCommand.self, ReservationsCommand.self, ReplayCommand.self,
            DatabaseCommand.self,
        ]
    )
}

extension Latchkey {
    /// Parses the command line and runs the chosen subcommand (`AsyncParsableCommand.main()`).
    static func start() async {
        await main()
    }
}
