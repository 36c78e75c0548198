import ArgumentParser

/// The `latchkey` command: booking webhooks in, linked Seam access codes out.
@main
struct Latchkey: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "latchkey",
        abstract: "Keeps one linked group of Seam access codes in step with each booking from your PMS.",
        subcommands: [ReplayCommand.self]
    )
}
