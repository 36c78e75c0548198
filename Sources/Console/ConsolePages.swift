import Foundation

/// The console's pages, each a pure function of its values: the same values give the same bytes.
///
/// Every value that did not come from these templates is escaped (``HTMLBuilder/text(_:)``); times are shown in the
/// property's zone where there is a property, else in UTC, and each carries its instant in `<time datetime>`.
package enum ConsolePages {
    /// The sections of the navigation.
    package enum Section: String, Sendable, CaseIterable {
        case arrivals, problems, properties, deliveries

        /// The label in the navigation.
        var label: String { rawValue.prefix(1).uppercased() + rawValue.dropFirst() }
    }

    /// The page around a section: head, navigation (with the problems count and sign-out), the body.
    /// - Parameters:
    ///   - title: The page's title.
    ///   - section: The section shown as current, or nil.
    ///   - csrf: The session's CSRF token, for the sign-out form; nil on the sign-in page (no navigation then).
    ///   - problems: How many problems there are (shown on the Problems link when more than 0).
    ///   - body: The main content's markup.
    /// - Returns: The whole document.
    package static func layout(title: String, section: Section?, csrf: String?, problems: Int = 0, body: String)
        -> String
    {
        var page = HTMLBuilder()
        page.raw(
            """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>
            """)
        page.text(title)
        page.raw(
            """
             · Latchkey</title>
            <link rel="stylesheet" href="\(ConsoleAssets.stylesheetPath)">
            <script src="\(ConsoleAssets.scriptPath)" defer></script>
            </head><body>
            <a class="skip" href="#main">Skip to content</a>
            \(ConsoleAssets.iconSprite)
            <header class="top"><div class="bar">
            <a class="brand" href="/console/arrivals"><svg class="i" aria-hidden="true"><use href="#i-key"/></svg>Latchkey</a>
            """)
        if let csrf {
            page.raw("<nav aria-label=\"Sections\"><ul>")
            for item in Section.allCases {
                let current = item == section ? " aria-current=\"page\"" : ""
                page.raw("<li><a href=\"/console/\(item.rawValue)\"\(current)>\(item.label)")
                if item == .problems && problems > 0 {
                    page.raw(" <span class=\"count\" aria-label=\"\(problems) open\">\(problems)</span>")
                }
                page.raw("</a></li>")
            }
            page.raw(
                """
                </ul></nav>
                <form method="post" action="/console/sign-out" class="signout">\(csrfField(csrf))\
                <button type="submit" class="link">Sign out</button></form>
                """)
        }
        page.raw("</div></header>\n<main id=\"main\">")
        page.raw(body)
        page.raw("</main></body></html>\n")
        return page.output
    }

    /// The hidden CSRF field of a form.
    package static func csrfField(_ token: String) -> String {
        "<input type=\"hidden\" name=\"csrf\" value=\"\(HTML.escape(token))\">"
    }

    // MARK: - Sign-in

    /// The sign-in page.
    /// - Parameters:
    ///   - message: What went wrong with the last attempt, or nil.
    ///   - enabled: Whether a console credential is configured; when not, the page says how to set one.
    ///   - sessionHours: How long a session lasts, said on the page. Default 12.
    /// - Returns: The whole document.
    package static func signIn(message: String?, enabled: Bool, sessionHours: Int = 12) -> String {
        var body = HTMLBuilder()
        body.raw("<section class=\"signin card\"><h1>Sign in</h1>")
        guard enabled else {
            body.raw(
                """
                <p class="note attention" role="alert"><svg class="i" aria-hidden="true"><use href="#i-alert"/></svg>\
                The console is off: no console password is configured. Set <code>console.password</code> \
                (default: environment variable <code>LATCHKEY_CONSOLE_PASSWORD</code>) or <code>admin.token</code>, \
                then restart Latchkey.</p></section>
                """)
            return layout(title: "Sign in", section: nil, csrf: nil, body: body.output)
        }
        body.raw("<p class=\"muted\">The operator console of this Latchkey.</p>")
        if let message {
            body.raw("<p class=\"note attention\" role=\"alert\"><svg class=\"i\" aria-hidden=\"true\">")
            body.raw("<use href=\"#i-alert\"/></svg>")
            body.text(message)
            body.raw("</p>")
        }
        body.raw(
            """
            <form method="post" action="/console/sign-in">
            <label for="password">Console password</label>
            <input id="password" name="password" type="password" autocomplete="current-password" required autofocus>
            <button type="submit" class="primary">Sign in</button>
            </form>
            <p class="muted small">Sessions last \(sessionHours) hour\(sessionHours == 1 ? "" : "s") and end when \
            Latchkey restarts.</p></section>
            """)
        return layout(title: "Sign in", section: nil, csrf: nil, body: body.output)
    }

    /// A small page for a refused or failed request (403 without a CSRF token, 404 unknown reservation, …).
    package static func message(title: String, text: String, csrf: String?, problems: Int = 0) -> String {
        var body = HTMLBuilder()
        body.raw("<section class=\"card\"><h1>")
        body.text(title)
        body.raw("</h1><p>")
        body.text(text)
        body.raw("</p><p><a href=\"/console/arrivals\">Back to arrivals</a></p></section>")
        return layout(title: title, section: nil, csrf: csrf, problems: problems, body: body.output)
    }

    // MARK: - Arrivals

    /// The Arrivals page: the range's tabs, then the list that refreshes itself (``arrivalsList(_:range:now:)``).
    /// - Parameters:
    ///   - rows: The arrivals in the range, in check-in order.
    ///   - range: The range shown.
    ///   - now: The time of rendering.
    ///   - seamNote: Why the lock states may be stale (Seam unreachable), or nil.
    ///   - showsPreArrival: Whether the pre-arrival column is shown (an add-on gives checks).
    ///   - csrf: The session's CSRF token.
    ///   - problems: The problems count for the navigation.
    /// - Returns: The whole document.
    package static func arrivals(
        _ rows: [ArrivalRow], range: ArrivalRange, now: Date, seamNote: String?, showsPreArrival: Bool, csrf: String,
        problems: Int
    ) -> String {
        var body = HTMLBuilder()
        body.raw("<div class=\"head\"><h1>Arrivals</h1><nav class=\"tabs\" aria-label=\"Range\">")
        for item in ArrivalRange.allCases {
            let current = item == range ? " aria-current=\"page\"" : ""
            body.raw("<a href=\"/console/arrivals?range=\(item.rawValue)\"\(current)>\(item.label)</a>")
        }
        body.raw("</nav></div>")
        body.raw(
            """
            <div id="arrivals" data-refresh="/console/arrivals/fragment?range=\(range.rawValue)\
            \(showsPreArrival ? "&amp;checks=1" : "")" data-interval="5000">
            """)
        body.raw(arrivalsList(rows, range: range, now: now, seamNote: seamNote, showsPreArrival: showsPreArrival))
        body.raw("</div>")
        body.raw(
            "<p class=\"muted small\" aria-live=\"polite\" id=\"updated\">Updated \(clock(now, zone: "UTC")) UTC</p>")
        return layout(title: "Arrivals", section: .arrivals, csrf: csrf, problems: problems, body: body.output)
    }

    /// The part of the Arrivals page that refreshes itself (also served alone as the fragment).
    package static func arrivalsList(
        _ rows: [ArrivalRow], range: ArrivalRange, now: Date, seamNote: String?, showsPreArrival: Bool
    ) -> String {
        var body = HTMLBuilder()
        let attention = rows.count { $0.status == .attention }
        let ready = rows.count { $0.status == .ready }
        if let seamNote {
            body.raw("<p class=\"note pending\"><svg class=\"i\" aria-hidden=\"true\"><use href=\"#i-dots\"/></svg>")
            body.text(seamNote)
            body.raw("</p>")
        }
        body.raw("<p class=\"summary\">")
        if rows.isEmpty {
            body.raw("No arrivals \(range == .week ? "in the next 7 days" : range.label.lowercased()).")
        } else {
            body.raw("\(rows.count) arrival\(rows.count == 1 ? "" : "s"): \(ready) ready")
            if attention > 0 {
                body.raw(
                    """
                    , <strong class="tone-attention"><svg class="i" aria-hidden="true"><use href="#i-alert"/></svg>\
                    \(attention) need\(attention == 1 ? "s" : "") attention</strong>
                    """)
            }
            body.raw(".")
        }
        body.raw("</p>")
        if rows.isEmpty { return body.output }
        body.raw("<ul class=\"arrivals\">")
        for row in rows {
            arrivalItem(row, now: now, showsPreArrival: showsPreArrival, into: &body)
        }
        body.raw("</ul>")
        return body.output
    }

    private static func arrivalItem(_ row: ArrivalRow, now: Date, showsPreArrival: Bool, into body: inout HTMLBuilder) {
        body.raw("<li class=\"arrival card tone-edge-\(row.status.tone.rawValue)\" data-reservation=\"")
        body.text("\(row.source)/\(row.reservationID)")
        body.raw("\" data-status=\"\(row.status.rawValue)\"><div class=\"who\"><a class=\"guest\" href=\"")
        body.raw(reservationPath(row.source, row.reservationID))
        body.raw("\">")
        body.text(row.guestFirstName ?? "Guest")
        body.raw("</a> <span class=\"muted\">")
        body.text(row.propertyName ?? "unmapped listing")
        body.raw("</span></div><div class=\"stay\">")
        body.raw(stay(row))
        body.raw("</div>")
        body.raw(badge(row.status.label, tone: row.status.tone, icon: row.status.icon, cls: "status"))
        body.raw("<p class=\"why\">")
        body.text(row.statusText)
        body.raw("</p><ul class=\"locks\" aria-label=\"Locks\">")
        for lock in row.locks {
            body.raw("<li>")
            body.text(lock.lockName)
            body.raw(" ")
            body.raw(badge(lock.state.label, tone: lock.state.tone, icon: lock.state.icon, cls: "lock"))
            body.raw("</li>")
        }
        body.raw("</ul>")
        if showsPreArrival {
            body.raw("<p class=\"check\"><span class=\"muted\">Pre-arrival check:</span> ")
            if let check = row.preArrival {
                body.raw(badge(check.text, tone: check.tone, icon: icon(for: check.tone), cls: "check"))
            } else {
                body.raw("<span class=\"muted\">none yet</span>")
            }
            body.raw("</p>")
        }
        body.raw("</li>")
    }

    // MARK: - Reservation

    /// The Reservation page.
    /// - Parameters:
    ///   - detail: The reservation.
    ///   - csrf: The session's CSRF token (the Reveal and Retry forms).
    ///   - problems: The problems count for the navigation.
    /// - Returns: The whole document.
    package static func reservation(_ detail: ReservationDetail, csrf: String, problems: Int) -> String {
        let row = detail.arrival
        let zone = row.timeZone
        var body = HTMLBuilder()
        body.raw("<div class=\"head\"><h1>")
        body.text(detail.guestName ?? row.guestFirstName ?? "Guest")
        body.raw("</h1>")
        body.raw(badge(row.status.label, tone: row.status.tone, icon: row.status.icon, cls: "status"))
        body.raw("</div><section class=\"card\"><dl class=\"facts\"><dt>Property</dt><dd>")
        body.text(row.propertyName ?? "unmapped listing")
        body.raw("</dd><dt>Stay</dt><dd>\(stay(row))</dd><dt>Reservation</dt><dd><code>")
        body.text("\(row.source)/\(row.reservationID)")
        body.raw("</code></dd><dt>Booking</dt><dd>")
        body.text(detail.bookingStatus ?? "unknown")
        body.raw("</dd><dt>Codes</dt><dd>")
        body.text(row.statusText)
        body.raw("</dd>")
        if let reason = detail.readBackReason {
            body.raw("<dt>Checking with Seam</dt><dd>")
            body.text(reason)
            body.raw("</dd>")
        }
        body.raw("</dl></section>")

        body.raw("<section class=\"card\"><h2>Door code</h2>")
        if let pin = detail.revealedPIN {
            body.raw("<p class=\"pin\" id=\"pin\" aria-label=\"PIN\">")
            body.text(pin)
            body.raw("</p><p class=\"muted small\">Revealing the PIN was logged (without the PIN).</p>")
        } else if detail.hasPIN {
            body.raw("<p class=\"pin masked\" aria-label=\"PIN hidden\">••••</p>")
            body.raw("<form method=\"post\" action=\"\(reservationPath(row.source, row.reservationID))/reveal\">")
            body.raw(csrfField(csrf))
            body.raw("<button type=\"submit\" id=\"reveal\">Reveal PIN</button></form>")
        } else {
            body.raw("<p class=\"muted\">No PIN yet.</p>")
        }
        body.raw("</section>")

        body.raw("<section class=\"card\"><h2>Locks</h2>")
        if row.locks.isEmpty {
            body.raw("<p class=\"muted\">No code on any lock.</p>")
        } else {
            body.raw("<table>" + tableHead(["Lock", "Code", "Detail"]))
            for lock in row.locks {
                body.raw("<tr><td>")
                body.text(lock.lockName)
                body.raw("</td><td>")
                body.raw(badge(lock.state.label, tone: lock.state.tone, icon: lock.state.icon, cls: "lock"))
                body.raw("</td><td class=\"muted\">")
                body.text(lock.detail ?? lock.accessCodeID ?? "")
                body.raw("</td></tr>")
            }
            body.raw("</tbody></table>")
        }
        body.raw("</section>")

        if let letter = detail.deadLetter {
            body.raw("<section class=\"card tone-edge-attention\"><h2>Failed Seam call</h2>")
            deadLetterBody(letter, csrf: csrf, zone: zone, into: &body)
            body.raw("</section>")
        }
        if !detail.pending.isEmpty {
            body.raw("<section class=\"card\"><h2>Waiting to be sent to Seam</h2><ul class=\"plain\">")
            for work in detail.pending {
                body.raw("<li>")
                body.text(work.operation)
                body.raw(", written \(time(work.createdAt, zone: zone))")
                if work.failedAttempts > 0 {
                    body.raw(", \(work.failedAttempts) failed attempt\(work.failedAttempts == 1 ? "" : "s")")
                }
                body.raw("</li>")
            }
            body.raw("</ul></section>")
        }

        body.raw("<section class=\"card\"><h2>Seam calls</h2>")
        if detail.seamActions.isEmpty {
            body.raw("<p class=\"muted\">None since Latchkey started (kept in memory only).</p>")
        } else {
            body.raw("<table>" + tableHead(["Time (\(zone))", "Call", "Result"]))
            for action in detail.seamActions {
                body.raw("<tr><td>\(time(action.at, zone: zone))</td><td><code>")
                body.text(action.call)
                body.raw("</code></td><td>")
                body.raw(
                    badge(
                        action.succeeded ? "OK" : "Failed", tone: action.succeeded ? .ok : .attention,
                        icon: action.succeeded ? .check : .cross, cls: "result"))
                if let message = action.message {
                    body.raw(" <span class=\"muted\">")
                    body.text(message)
                    body.raw("</span>")
                }
                body.raw("</td></tr>")
            }
            body.raw("</tbody></table>")
        }
        body.raw("</section>")

        body.raw("<section class=\"card\"><h2>Deliveries received</h2>")
        if detail.deliveries.isEmpty {
            body.raw("<p class=\"muted\">None among the recent deliveries kept in memory.</p>")
        } else {
            deliveriesTable(detail.deliveries, zone: zone, into: &body)
        }
        body.raw("</section>")

        if let notifications = detail.notifications {
            body.raw("<section class=\"card\"><h2>Notifications</h2>")
            notificationList(notifications, zone: zone, into: &body)
            body.raw("</section>")
        }
        return layout(
            title: detail.guestName ?? "Reservation", section: nil, csrf: csrf, problems: problems, body: body.output)
    }

    // MARK: - Problems

    /// The Problems page.
    package static func problems(_ report: ProblemsReport, now: Date, csrf: String, showsPreArrival: Bool) -> String {
        var body = HTMLBuilder()
        body.raw("<div class=\"head\"><h1>Problems</h1></div>")
        if report.count == 0 {
            body.raw(
                """
                <p class="summary"><svg class="i tone-ok" aria-hidden="true"><use href="#i-check"/></svg>\
                Nothing needs attention.</p>
                """)
        }
        body.raw("<section class=\"card\" id=\"dead-letters\"><h2>Failed Seam calls (dead letters)</h2>")
        if report.deadLetters.isEmpty {
            body.raw("<p class=\"muted\">None.</p>")
        } else {
            body.raw("<ul class=\"problems\">")
            for letter in report.deadLetters {
                body.raw("<li class=\"problem\" data-dead-letter=\"")
                body.text(letter.id)
                body.raw("\">")
                deadLetterBody(letter, csrf: csrf, zone: "UTC", into: &body)
                body.raw("</li>")
            }
            body.raw("</ul>")
        }
        body.raw("</section><section class=\"card\" id=\"failed-locks\"><h2>Locks that failed</h2>")
        if report.failedLocks.isEmpty {
            body.raw("<p class=\"muted\">None.</p>")
        } else {
            body.raw("<ul class=\"arrivals\">")
            for row in report.failedLocks { arrivalItem(row, now: now, showsPreArrival: showsPreArrival, into: &body) }
            body.raw("</ul>")
        }
        body.raw("</section>")
        if !report.uncertain.isEmpty {
            body.raw("<section class=\"card\"><h2>Being checked with Seam</h2><ul class=\"plain\">")
            for item in report.uncertain {
                let parts = item.reservation.split(separator: "/", maxSplits: 1).map(String.init)
                body.raw("<li><a href=\"\(reservationPath(parts.first ?? "", parts.count > 1 ? parts[1] : ""))\">")
                body.text(item.reservation)
                body.raw("</a>: ")
                body.text(item.reason)
                body.raw("</li>")
            }
            body.raw("</ul></section>")
        }
        if let failed = report.failedNotifications {
            body.raw("<section class=\"card\" id=\"failed-notifications\"><h2>Notifications that failed</h2>")
            notificationList(failed, zone: "UTC", into: &body)
            body.raw("</section>")
        }
        body.raw("<section class=\"card\" id=\"signature-failures\"><h2>Signature failures, last 24 hours</h2>")
        if report.signatureFailures.isEmpty {
            body.raw("<p class=\"muted\">None.</p>")
        } else {
            body.raw("<ul class=\"plain\">")
            for item in report.signatureFailures {
                body.raw("<li>")
                body.raw(badge("\(item.count)", tone: .attention, icon: .cross, cls: "count-badge"))
                body.raw(
                    " from <a href=\"/console/deliveries?source=\(HTML.urlComponent(item.source))&amp;verdict=rejected\">"
                )
                body.text(item.source)
                body.raw("</a></li>")
            }
            body.raw(
                "</ul><p class=\"muted small\">Check that the source's secret matches the PMS's webhook settings.</p>")
        }
        body.raw("</section>")
        return layout(title: "Problems", section: .problems, csrf: csrf, problems: report.count, body: body.output)
    }

    private static func deadLetterBody(
        _ letter: DeadLetterLine, csrf: String, zone: String, into body: inout HTMLBuilder
    ) {
        body.raw("<div class=\"problem-text\"><p><a href=\"\(reservationPath(letter.source, letter.reservationID))\">")
        body.text("\(letter.source)/\(letter.reservationID)")
        body.raw("</a>: <code>")
        body.text(letter.operation)
        body.raw("</code> failed \(letter.attempts) time\(letter.attempts == 1 ? "" : "s"), last ")
        body.raw(time(letter.failedAt, zone: zone) + (zone == "UTC" ? " UTC" : ""))
        body.raw("</p><p class=\"muted\">")
        body.text(letter.message)
        body.raw(
            "</p></div><form method=\"post\" action=\"/console/dead-letters/\(HTML.urlComponent(letter.id))/retry\">")
        body.raw(csrfField(csrf))
        body.raw(
            """
            <button type="submit" class="primary"><svg class="i" aria-hidden="true"><use href="#i-retry"/></svg>\
            Retry</button></form>
            """)
    }

    // MARK: - Properties

    /// The Properties page.
    package static func properties(_ lines: [PropertyLine], seamNote: String?, csrf: String, problems: Int) -> String {
        var body = HTMLBuilder()
        body.raw("<div class=\"head\"><h1>Properties</h1></div>")
        if let seamNote {
            body.raw("<p class=\"note pending\">")
            body.text(seamNote)
            body.raw("</p>")
        }
        for property in lines {
            body.raw("<section class=\"card\"><h2>")
            body.text(property.name)
            body.raw(" <span class=\"muted small\">")
            body.text(property.timeZone)
            body.raw("</span></h2><table class=\"locks-table\">")
            body.raw(tableHead(["Lock", "Seam says", "Codes Latchkey manages"]))
            for lock in property.locks {
                body.raw("<tr><td>")
                body.text(lock.name)
                body.raw("<br><code class=\"small muted\">")
                body.text(lock.deviceID)
                body.raw("</code></td><td>")
                switch lock.online {
                case true?: body.raw(badge("Online", tone: .ok, icon: .check, cls: "lock"))
                case false?: body.raw(badge("Offline", tone: .attention, icon: .offline, cls: "lock"))
                case nil: body.raw(badge("Unknown", tone: .quiet, icon: .dash, cls: "lock"))
                }
                body.raw("</td><td>\(lock.codes.count) code\(lock.codes.count == 1 ? "" : "s")")
                if !lock.codes.isEmpty {
                    body.raw("<ul class=\"plain small\">")
                    for code in lock.codes.prefix(20) {
                        body.raw("<li>")
                        body.text(code)
                        body.raw("</li>")
                    }
                    if lock.codes.count > 20 { body.raw("<li class=\"muted\">and \(lock.codes.count - 20) more</li>") }
                    body.raw("</ul>")
                }
                body.raw("</td></tr>")
            }
            body.raw("</tbody></table></section>")
        }
        return layout(title: "Properties", section: .properties, csrf: csrf, problems: problems, body: body.output)
    }

    // MARK: - Deliveries

    /// The verdicts a delivery can have, for the filter.
    package static let verdicts = ["accepted", "duplicate", "ignored", "rejected"]

    /// The Deliveries page.
    /// - Parameters:
    ///   - lines: The deliveries that pass the filter, most recent first.
    ///   - sources: The configured sources, for the filter.
    ///   - source: The source filter, or nil for all.
    ///   - verdict: The verdict filter, or nil for all.
    ///   - kept: How many deliveries are kept in memory at most.
    ///   - csrf: The session's CSRF token.
    ///   - problems: The problems count for the navigation.
    /// - Returns: The whole document.
    package static func deliveries(
        _ lines: [DeliveryLine], sources: [String], source: String?, verdict: String?, kept: Int, csrf: String,
        problems: Int
    ) -> String {
        var body = HTMLBuilder()
        body.raw("<div class=\"head\"><h1>Deliveries</h1></div>")
        body.raw("<form method=\"get\" action=\"/console/deliveries\" class=\"filters card\">")
        body.raw(
            "<label for=\"source\">Source</label><select id=\"source\" name=\"source\"><option value=\"\">All</option>")
        for name in sources {
            body.raw("<option value=\"")
            body.text(name)
            body.raw("\"\(name == source ? " selected" : "")>")
            body.text(name)
            body.raw("</option>")
        }
        body.raw("</select><label for=\"verdict\">Verdict</label><select id=\"verdict\" name=\"verdict\">")
        body.raw("<option value=\"\">All</option>")
        for name in verdicts {
            body.raw("<option value=\"\(name)\"\(name == verdict ? " selected" : "")>\(name.capitalized)</option>")
        }
        body.raw("</select><button type=\"submit\">Filter</button></form>")
        body.raw("<section class=\"card\">")
        if lines.isEmpty {
            body.raw("<p class=\"muted\">No deliveries match.</p>")
        } else {
            deliveriesTable(lines, zone: "UTC", into: &body)
        }
        body.raw(
            """
            <p class="muted small">The last \(kept) deliveries since Latchkey started, kept in memory only; \
            times in UTC.</p></section>
            """)
        return layout(title: "Deliveries", section: .deliveries, csrf: csrf, problems: problems, body: body.output)
    }

    private static func deliveriesTable(_ lines: [DeliveryLine], zone: String, into body: inout HTMLBuilder) {
        body.raw("<div class=\"scroll\"><table class=\"deliveries\">")
        body.raw(tableHead(["Time (\(zone))", "Source", "Verdict", "Reservations", "Reason"]))
        for line in lines {
            body.raw("<tr data-verdict=\"\(HTML.escape(line.verdict))\"><td>\(time(line.at, zone: zone))</td><td>")
            body.text(line.source)
            body.raw("</td><td>")
            body.raw(
                badge("\(line.verdict.capitalized) (\(line.status))", tone: line.tone, icon: line.icon, cls: "verdict"))
            body.raw("</td><td>")
            body.text(line.reservationIDs.joined(separator: ", "))
            body.raw("</td><td>")
            body.text(line.reason ?? "")
            body.raw("</td></tr>")
        }
        body.raw("</tbody></table></div>")
    }

    private static func notificationList(_ lines: [NotificationLine], zone: String, into body: inout HTMLBuilder) {
        if lines.isEmpty {
            body.raw("<p class=\"muted\">None.</p>")
            return
        }
        body.raw("<ul class=\"plain\">")
        for line in lines {
            body.raw("<li>\(time(line.at, zone: zone)) ")
            body.raw(
                badge(
                    line.succeeded ? "Sent" : "Failed", tone: line.succeeded ? .ok : .attention,
                    icon: line.succeeded ? .check : .cross, cls: "result"))
            body.raw(" ")
            body.text(line.channel)
            if let reservation = line.reservation {
                body.raw(" · ")
                body.text(reservation)
            }
            body.raw(": ")
            body.text(line.text)
            body.raw("</li>")
        }
        body.raw("</ul>")
    }

    // MARK: - Pieces

    /// A table's head row and the opening of its body.
    private static func tableHead(_ columns: [String]) -> String {
        "<thead><tr>" + columns.map { "<th scope=\"col\">\(HTML.escape($0))</th>" }.joined() + "</tr></thead><tbody>"
    }

    /// A status badge: icon and word, the tone as a class (never the only signal).
    package static func badge(_ label: String, tone: Tone, icon: Icon, cls: String) -> String {
        """
        <span class="badge \(cls) tone-\(tone.rawValue)"><svg class="i" aria-hidden="true"><use href="#i-\(icon.rawValue)"/>\
        </svg>\(HTML.escape(label))</span>
        """
    }

    /// The console path of a reservation.
    package static func reservationPath(_ source: String, _ id: String) -> String {
        "/console/reservations/\(HTML.urlComponent(source))/\(HTML.urlComponent(id))"
    }

    private static func icon(for tone: Tone) -> Icon {
        switch tone {
        case .ok: .check
        case .pending: .dots
        case .attention: .alert
        case .quiet: .dash
        }
    }

    private static func stay(_ row: ArrivalRow) -> String {
        guard let checkIn = row.checkIn else { return "<span class=\"muted\">dates unknown</span>" }
        var out = time(checkIn, zone: row.timeZone)
        if let checkOut = row.checkOut { out += " → " + time(checkOut, zone: row.timeZone) }
        return out + " <span class=\"muted small\">\(HTML.escape(row.timeZone))</span>"
    }

    /// `<time datetime="…">Mon 7 Dec, 15:00</time>` in `zone` (UTC when the zone is unknown).
    package static func time(_ date: Date, zone: String) -> String {
        let parts = components(date, zone: zone)
        let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let text =
            "\(weekdays[(parts.weekday ?? 1) - 1]) \(parts.day ?? 0) \(months[(parts.month ?? 1) - 1]), "
            + "\(twoDigits(parts.hour)):\(twoDigits(parts.minute))"
        return "<time datetime=\"\(date.ISO8601Format())\">\(text)</time>"
    }

    private static func clock(_ date: Date, zone: String) -> String {
        let parts = components(date, zone: zone)
        return "\(twoDigits(parts.hour)):\(twoDigits(parts.minute)):\(twoDigits(parts.second))"
    }

    private static func components(_ date: Date, zone: String) -> DateComponents {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: zone) ?? TimeZone(identifier: "UTC") ?? calendar.timeZone
        return calendar.dateComponents([.weekday, .day, .month, .hour, .minute, .second], from: date)
    }

    private static func twoDigits(_ value: Int?) -> String {
        let value = value ?? 0
        return value < 10 ? "0\(value)" : "\(value)"
    }
}
