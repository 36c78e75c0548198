import Dispatch
import HTTPServer

// `serve` and `fake-seam` stop gracefully on SIGTERM/SIGINT through their listener's signalfd. The signals must be
// blocked in every thread, or the kernel may deliver them to one that has them unblocked and the process dies
// without draining. So they are blocked here, before any other thread starts, and `main` stays synchronous:
// an async top-level `main` hands this thread to Dispatch's main queue, which unblocks them again.
if CommandLine.arguments.count > 1, ["serve", "fake-seam"].contains(CommandLine.arguments[1]) {
    try HTTPServer.blockTerminationSignals()
}
let finished = DispatchSemaphore(value: 0)
Task.detached {
    await Latchkey.start()
    finished.signal()
}
finished.wait()
