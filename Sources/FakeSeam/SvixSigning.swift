import WebhookAuth

/// Signs webhook deliveries as Seam's (Svix's) do, with WebhookAuth's Standard Webhooks signer:
/// `svix-id`, `svix-timestamp` and `svix-signature: v1,<base64 HMAC-SHA256>` over `"{id}.{timestamp}.{body}"`
/// keyed by the base64-decoded `whsec_` secret (seam-api.md §9.3).
enum SvixSigning {
    /// A signer for `secret`; it throws (and the delivery is not sent) when the secret does not decode.
    static func signer(secret: String) -> WebhookSender.Signer {
        let secret = Secret(secret)
        return { id, timestamp, body in
            try StandardWebhooks.headers(id: id, timestamp: timestamp, body: body, secrets: [secret], names: .svix)
        }
    }
}
