/// Response bodies shaped like Seam's, written from the examples in seam-api.md (§3, §4, §6, §10).
enum SeamFixtures {
    /// `create_multiple` docs example: a time-bound linked code, microsecond timestamps, extra fields.
    static let createMultiple = """
        {
          "access_codes": [
            {
              "access_code_id": "8a1f3c2e-0b6d-4e8f-9c1a-2b3c4d5e6f70",
              "device_id": "c3b0b0a4-4a2e-4a43-9d2d-0d9b3f7f2a11",
              "workspace_id": "5f1c2d3e-4b5a-6978-8796-a5b4c3d2e1f0",
              "name": "latchkey:guesty:HMX-4411",
              "code": "4821",
              "common_code_key": "auto_set_by_create_multiple_550e8400-e29b-41d4-a716-446655440000",
              "type": "time_bound",
              "starts_at": "2026-12-01T15:00:00.000Z",
              "ends_at": "2026-12-05T11:00:00.000Z",
              "status": "set",
              "is_scheduled_on_device": true,
              "is_managed": true,
              "is_backup_access_code_available": false,
              "is_external_modification_allowed": false,
              "is_one_time_use": false,
              "is_offline_access_code": false,
              "pending_mutations": [],
              "errors": [],
              "warnings": [],
              "created_at": "2025-06-14T16:54:17.946242Z"
            },
            {
              "access_code_id": "9b2e4d3f-1c7e-4f90-8d2b-3c4d5e6f7081",
              "device_id": "d4c1c1b5-5b3f-4b54-8e3e-1e0c4a8a3b22",
              "name": "latchkey:guesty:HMX-4411",
              "code": "4821",
              "common_code_key": "auto_set_by_create_multiple_550e8400-e29b-41d4-a716-446655440000",
              "type": "time_bound",
              "starts_at": "2026-12-01T15:00:00Z",
              "ends_at": "2026-12-05T11:00:00Z",
              "status": "unset",
              "is_managed": true,
              "errors": [
                {"error_code": "failed_to_set_on_device", "message": "Failed to set code on device.",
                 "is_access_code_error": true, "created_at": "2026-11-29T08:00:00.123456Z"}
              ],
              "warnings": [
                {"warning_code": "delay_in_setting_on_device", "message": "Delay in setting code on device."}
              ],
              "created_at": "2025-06-14T16:54:18Z"
            }
          ],
          "ok": true
        }
        """

    /// The docs' ongoing code (`get` shape), with `is_managed` left out as some examples do.
    static let getOngoing = """
        {
          "access_code": {
            "access_code_id": "26d6138c-6524-4f3c-ac96-43cc3bea0a8d",
            "device_id": "c3b0b0a4-4a2e-4a43-9d2d-0d9b3f7f2a11",
            "code": "1234",
            "common_code_key": null,
            "created_at": "2025-06-14T16:54:17.946242Z",
            "errors": [],
            "is_backup": false,
            "is_scheduled_on_device": true,
            "is_waiting_for_code_assignment": false,
            "name": "My first code",
            "pulled_backup_access_code_id": null,
            "status": "setting",
            "type": "ongoing",
            "warnings": []
          },
          "ok": true
        }
        """

    /// `delete`: an action attempt, pending.
    static let deletePending = """
        {"action_attempt": {"action_attempt_id": "e1f2a3b4-0000-4000-8000-000000000001",
          "action_type": "DELETE_ACCESS_CODE", "status": "pending", "result": null, "error": null}, "ok": true}
        """

    /// `update_multiple`: `{ok}` only.
    static let ok = #"{"ok": true}"#

    /// A device from the docs' code-requirements example.
    static let device = """
        {
          "device": {
            "device_id": "ed4bb795-f29f-43e5-bc0f-35f69f9141b5",
            "device_type": "nuki_lock",
            "display_name": "Front Door",
            "capabilities_supported": ["access_code", "lock"],
            "can_program_online_access_codes": true,
            "location": null,
            "properties": {
              "name": "Front Door",
              "online": true,
              "battery": {"level": 0.86, "status": "full"},
              "supported_code_lengths": [4, 5, 6, 7, 8],
              "max_active_codes_supported": 250,
              "code_constraints": [
                {"constraint_type": "cannot_start_with_12"},
                {"constraint_type": "no_zeros"},
                {"constraint_type": "name_length", "max_length": 20}
              ],
              "supports_backup_access_code_pool": true
            },
            "connected_account_id": "a0b1c2d3-0000-4000-8000-000000000002",
            "workspace_id": "5f1c2d3e-4b5a-6978-8796-a5b4c3d2e1f0",
            "created_at": "2024-01-02T03:04:05.678Z",
            "errors": [],
            "warnings": []
          },
          "ok": true
        }
        """

    /// The docs' `invalid_input` error.
    static let invalidInput = """
        {"error": {"type": "invalid_input", "message": "ends_at must be after starts_at",
          "validation_errors": {"_errors": [], "ends_at": {"_errors": ["must be after starts_at"]},
            "device_ids": {"0": {"_errors": ["Invalid uuid"]}, "_errors": []}}}, "ok": false}
        """

    /// An old-docs 404 with the request id in the body.
    static let deviceNotFound = """
        {"error": {"type": "device_not_found", "message": "Device not found",
          "request_id": "bf6643a3-a102-4f3b-b4c3-bd8cd1119ba2"}, "ok": false}
        """

    /// The fake's 404 for a missing access code.
    static let accessCodeNotFound = """
        {"error": {"type": "access_code_not_found", "message": "Access code not found"}, "ok": false}
        """

    /// One page of `list`: the codes with the given ids on a device, and the next cursor if any.
    static func listPage(ids: [String], deviceID: String = "c3b0b0a4-4a2e-4a43-9d2d-0d9b3f7f2a11", next: String?)
        -> String
    {
        let codes = ids.map { id in
            """
            {"access_code_id": "\(id)", "device_id": "\(deviceID)", "name": "n", "code": "1111",
             "common_code_key": null, "type": "ongoing", "status": "set", "errors": [], "warnings": [],
             "is_managed": true, "created_at": "2026-01-01T00:00:00Z"}
            """
        }
        let pagination =
            next.map { #"{"has_next_page": true, "next_page_cursor": "\#($0)", "next_page_url": null}"# }
            ?? #"{"has_next_page": false, "next_page_cursor": null, "next_page_url": null}"#
        return #"{"access_codes": [\#(codes.joined(separator: ","))], "pagination": \#(pagination), "ok": true}"#
    }
}
