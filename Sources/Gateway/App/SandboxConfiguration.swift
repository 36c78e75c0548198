import Bookings
import Configuration
import FakeSeam

/// The configuration `latchkey serve` and `latchkey demo` use when no `--config` is given: one sample property
/// on two locks of the built-in fake Seam, and a `native` source with a published sandbox secret.
package enum SandboxConfiguration {
    /// The sandbox's Standard Webhooks secret. Public on purpose: it guards nothing but the sandbox.
    package static let nativeSecret = "whsec_bGF0Y2hrZXktc2FuZGJveC1zZWNyZXQtMzJieXRlcyE="
    /// The sample listing id of the native source (also the benchmark kit's listing).
    package static let sampleListing = "lst_000048213"

    /// The sandbox configuration, with its data in `dataDirectory`.
    package static func make(dataDirectory: String = "./latchkey-data") -> LatchkeyConfiguration {
        LatchkeyConfiguration(
            dataDirectory: dataDirectory,
            seam: SeamSettings(),
            sources: [
                SourceSettings(
                    name: "native", adapter: "native",
                    auth: .standardWebhooks(secrets: [.inline(nativeSecret)], toleranceSeconds: 300))
            ],
            properties: [
                Property(
                    id: "sample-loft", name: "Sample Loft", listings: ["native": [sampleListing, "lst_sandbox_2"]],
                    deviceIDs: [FakeSeamSeed.DefaultDevice.frontDoor, FakeSeamSeed.DefaultDevice.backDoor],
                    timeZone: "Europe/Berlin", bufferBeforeCheckInMinutes: 30, bufferAfterCheckOutMinutes: 30)
            ]
        )
    }
}
