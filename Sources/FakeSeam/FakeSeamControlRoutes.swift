import Foundation
import HTTPServer

extension FakeSeamService {
    /// `/_fake/*`: test and demo controls. No auth and no faults, like Seam's own fake.
    ///
    /// - `GET /_fake/state`: devices, codes (with PINs), attempts, events, call counts, faults, the clock.
    /// - `POST /_fake/reset`: back to the seed and the configured faults (the clock keeps its time).
    /// - `POST /_fake/clock` `{"advance_seconds": 60}` or `{"set": "2026-11-15T15:00:00Z"}` (forward only).
    /// - `GET /_fake/faults`, `POST /_fake/faults` with a ``FaultConfiguration`` (replaces the current one).
    /// - `POST /_fake/devices/set_online` `{"device_id": "…", "online": false}`.
    /// - `POST /_fake/access_codes/change_at_lock` `{"access_code_id": "…", "change": "deleted" | "modified",
    ///   "code": "1234"}` (`code` optional): someone removed or changed the code at the keypad; answers the event.
    func addControlRoutes(to router: inout Router) {
        router.add("GET", "/_fake/state") { request, responder in
            self.serveControl(request, respond: responder) { service, _ in service.stateJSON }
        }
        router.add("POST", "/_fake/reset") { request, responder in
            self.serveControl(request, respond: responder) { service, _ in
                service.reset()
                return [:]
            }
        }
        router.add("POST", "/_fake/clock") { request, responder in
            self.serveControl(request, respond: responder) { service, body throws(SeamAPIError) in
                if let seconds = body["advance_seconds"]?.numberValue {
                    guard seconds >= 0 else {
                        throw SeamAPIError.invalidInput(
                            "advance_seconds", "must not be negative: the fake's clock only moves forward")
                    }
                    service.advanceClock(by: seconds)
                } else if let text = body["set"]?.stringValue {
                    guard let target = SeamTime.parse(text) else {
                        throw SeamAPIError.invalidInput("set", "Invalid datetime; send ISO 8601")
                    }
                    let now = service.now
                    guard target >= now else {
                        throw SeamAPIError.invalidInput(
                            "set", "must not be before the fake's current time \(SeamTime.format(now))")
                    }
                    service.advanceClock(by: target.timeIntervalSince(now))
                } else {
                    throw SeamAPIError.invalidInput(
                        "advance_seconds", "Send advance_seconds (a number) or set (an ISO 8601 time)")
                }
                return ["now": .string(SeamTime.format(service.now))]
            }
        }
        router.add("GET", "/_fake/faults") { request, responder in
            self.serveControl(request, respond: responder) { service, _ in ["faults": service.faults.json] }
        }
        router.add("POST", "/_fake/faults") { request, responder in
            self.serveControl(request, respond: responder) { service, body throws(SeamAPIError) in
                let faults: FaultConfiguration
                do {
                    faults = try JSONDecoder().decode(FaultConfiguration.self, from: Data(body.encoded))
                } catch {
                    throw SeamAPIError(
                        status: 400, type: "invalid_input", message: "Not a fault configuration: \(error)")
                }
                try service.setFaults(faults)
                return ["faults": service.faults.json]
            }
        }
        router.add("POST", "/_fake/devices/set_online") { request, responder in
            self.serveControl(request, respond: responder) { service, body throws(SeamAPIError) in
                guard let id = body["device_id"]?.stringValue, let online = body["online"]?.boolValue else {
                    throw SeamAPIError.invalidInput([
                        "device_id": ["Required (string)"], "online": ["Required (boolean)"],
                    ])
                }
                try service.setDeviceOnline(online, deviceID: id)
                return [:]
            }
        }
        router.add("POST", "/_fake/access_codes/change_at_lock") { request, responder in
            self.serveControl(request, respond: responder) { service, body throws(SeamAPIError) in
                let change: ChangeAtLock
                switch (body["change"]?.stringValue, body["code"]) {
                case ("deleted", nil): change = .deleted
                case ("modified", nil): change = .modified(code: nil)
                case ("modified", .some(.string(let code))): change = .modified(code: code)
                default:
                    throw SeamAPIError.invalidInput([
                        "change": ["Required: \"deleted\" or \"modified\""],
                        "code": ["Optional (string), only with \"modified\""],
                    ])
                }
                guard let id = body["access_code_id"]?.stringValue else {
                    throw SeamAPIError.invalidInput(["access_code_id": ["Required (string)"]])
                }
                let event = try service.changeAtLock(change, accessCodeID: id)
                return ["event": event.json]
            }
        }
    }
}
