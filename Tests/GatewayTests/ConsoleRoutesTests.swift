import Bookings
import Console
import Foundation
import HTTPServer
import Intake
import Logging
import Reconciler
import Synchronization
import Testing

@testable import Gateway

/// The console's routes without a running gateway: every route redirects without a session, forms need the CSRF
/// token, sign-in is slowed after a failure, a session ends when it expires.
@Suite struct ConsoleRoutesTests {
    struct EmptySource: ConsoleSource {
        func reservations() async -> [Reconciler.ReservationSnapshot] { [] }
        func reservation(_ key: ReservationKey) async -> Reconciler.ReservationSnapshot? { nil }
        func deadLetters() async -> [DeadLetter] { [] }
        func outbox() async -> [OutboxIntent] { [] }
        func retry(deadLetterID: String) async throws {}
        func liveSeam() async -> LiveSeam { LiveSeam() }
    }

    /// A clock the test moves.
    final class Clock: Sendable {
        let now = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
        func advance(_ seconds: Double) { now.withLock { $0 = $0.addingTimeInterval(seconds) } }
    }

    static let password = "correct horse battery staple"

    static func router(password: String? = password, clock: Clock = Clock()) -> Router {
        var router = Router()
        ConsoleRoutes(
            password: password, sessionHours: 12, source: EmptySource(), catalogue: PropertyCatalogue([]),
            sourceNames: ["native"], deliveries: RecentDeliveries(), activity: SeamActivity(),
            logger: Logger(label: "console-test"), now: { clock.now.withLock { $0 } }
        ).register(on: &router)
        return router
    }

    static func send(
        _ router: Router, _ method: String, _ target: String, cookie: String? = nil, form: String? = nil,
        client: String = "192.0.2.1"
    ) async -> HTTPResponse {
        var headers = HTTPHeaders()
        if let cookie { headers.add(name: "Cookie", value: "lk_console=\(cookie)") }
        if form != nil { headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded") }
        let request = HTTPRequest(
            method: method, target: target, headers: headers, body: Array((form ?? "").utf8), clientAddress: client)
        return await withCheckedContinuation { continuation in
            router.handle(request, responder: Responder { continuation.resume(returning: $0) })
        }
    }

    /// Signs in; returns the session id and the CSRF token of the page.
    static func signIn(_ router: Router) async throws -> (session: String, csrf: String) {
        let answer = await send(router, "POST", "/console/sign-in", form: "password=correct+horse+battery+staple")
        #expect(answer.status == 303)
        let cookie = try #require(answer.headers["Set-Cookie"])
        #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Path=/console"))
        #expect(cookie.contains("Max-Age=43200"))
        let session = String(cookie.dropFirst("lk_console=".count).prefix { $0 != ";" })
        let page = String(decoding: await send(router, "GET", "/console/arrivals", cookie: session).body, as: UTF8.self)
        let marker = "name=\"csrf\" value=\""
        let start = try #require(page.range(of: marker)).upperBound
        return (session, String(page[start...].prefix { $0 != "\"" }))
    }

    @Test(arguments: ConsoleRoutes.protectedRoutes.map { "\($0.method) \($0.path)" })
    func everyRouteWithoutASession_RedirectsToSignIn(route: String) async {
        let parts = route.split(separator: " ").map(String.init)
        let router = Self.router()
        for cookie in [nil, "forged-session-id"] {
            let answer = await Self.send(router, parts[0], parts[1], cookie: cookie, form: "csrf=x")
            #expect(answer.status == 303, "\(route)")
            #expect(answer.headers["Location"] == "/console/sign-in", "\(route)")
        }
        // With the console off (no password), still a redirect: nothing else is ever answered.
        let off = await Self.send(Self.router(password: nil), parts[0], parts[1])
        #expect(off.status == 303)
    }

    @Test func anUnknownConsolePage_RedirectsWithoutASession_AndIsAPageWithOne() async throws {
        let router = Self.router()
        for path in ["/console/nope", "/console/reservations/native", "/console/a/b/c/d"] {
            let answer = await Self.send(router, "GET", path)
            #expect(answer.status == 303, "\(path)")
            #expect(answer.headers["Location"] == "/console/sign-in", "\(path)")
        }
        let (session, _) = try await Self.signIn(router)
        let page = await Self.send(router, "GET", "/console/nope", cookie: session)
        #expect(page.status == 404)
        #expect(page.headers["Content-Type"]?.hasPrefix("text/html") == true)
        #expect(String(decoding: page.body, as: UTF8.self).contains("No such page"))
    }

    @Test func everyRouteWithASession_Answers() async throws {
        let router = Self.router()
        let (session, csrf) = try await Self.signIn(router)
        for (method, path) in ConsoleRoutes.protectedRoutes where path != "/console/sign-out" {
            let answer = await Self.send(
                router, method, path, cookie: session, form: method == "POST" ? "csrf=\(csrf)" : nil)
            #expect(answer.status != 303 || path == "/console", "\(method) \(path): \(answer.status)")
            #expect(answer.headers["Location"] != "/console/sign-in", "\(method) \(path)")
        }
    }

    @Test func aFormPostWithoutTheCSRFToken_IsRefused403() async throws {
        let router = Self.router()
        let (session, csrf) = try await Self.signIn(router)
        for (method, path) in ConsoleRoutes.protectedRoutes where method == "POST" {
            for form in ["", "csrf=", "csrf=\(csrf.dropLast())", "other=\(csrf)"] {
                let answer = await Self.send(router, method, path, cookie: session, form: form)
                #expect(answer.status == 403, "\(path) with \(form)")
            }
        }
        // The session is still open: the refused sign-out did nothing.
        #expect(await Self.send(router, "GET", "/console/problems", cookie: session).status == 200)
        let out = await Self.send(router, "POST", "/console/sign-out", cookie: session, form: "csrf=\(csrf)")
        #expect(out.status == 303)
        #expect(await Self.send(router, "GET", "/console/problems", cookie: session).status == 303)
    }

    @Test func aSessionEndsWhenItExpires() async throws {
        let clock = Clock()
        let router = Self.router(clock: clock)
        let (session, _) = try await Self.signIn(router)
        clock.advance(12 * 3_600 - 1)
        #expect(await Self.send(router, "GET", "/console/arrivals", cookie: session).status == 200)
        clock.advance(1)
        #expect(await Self.send(router, "GET", "/console/arrivals", cookie: session).status == 303)
    }

    @Test func failedSignIns_AreSlowedPerClient() async throws {
        let clock = Clock()
        let router = Self.router(clock: clock)
        let wrong = await Self.send(router, "POST", "/console/sign-in", form: "password=guess")
        #expect(wrong.status == 401)
        #expect(wrong.headers["Set-Cookie"] == nil)
        // The right password at once is not even checked: the client must wait a second.
        let early = await Self.send(router, "POST", "/console/sign-in", form: "password=correct+horse+battery+staple")
        #expect(early.status == 429)
        #expect(early.headers["Retry-After"] == "1")
        // Another client is not held up.
        let other = await Self.send(
            router, "POST", "/console/sign-in", form: "password=correct+horse+battery+staple", client: "192.0.2.9")
        #expect(other.status == 303)
        clock.advance(1)
        #expect(await Self.send(router, "POST", "/console/sign-in", form: "password=guess").status == 401)
        clock.advance(1)
        let second = await Self.send(router, "POST", "/console/sign-in", form: "password=correct+horse+battery+staple")
        #expect(second.status == 429 && second.headers["Retry-After"] == "1")
        clock.advance(1)
        #expect(
            await Self.send(router, "POST", "/console/sign-in", form: "password=correct+horse+battery+staple").status
                == 303)
    }

    @Test func assetsAndSignInPage_NeedNoSession_AndPagesAreNotCached() async throws {
        let router = Self.router()
        let css = await Self.send(router, "GET", ConsoleAssets.stylesheetPath)
        #expect(css.status == 200 && css.headers["Content-Type"] == "text/css; charset=utf-8")
        #expect(await Self.send(router, "GET", ConsoleAssets.scriptPath).status == 200)
        #expect(await Self.send(router, "GET", "/console/assets/other.js").status == 404)
        let signIn = await Self.send(router, "GET", "/console/sign-in")
        #expect(signIn.status == 200)
        #expect(signIn.headers["Cache-Control"] == "no-store")
        #expect(signIn.headers["Content-Security-Policy"]?.contains("script-src 'self'") == true)
        #expect(await Self.send(Self.router(password: nil), "GET", "/console/sign-in").status == 404)
        #expect(
            await Self.send(Self.router(password: nil), "POST", "/console/sign-in", form: "password=").status == 404)
    }
}
