import ArgumentParser
import Dispatch
import Glibc

// `serve` turns SIGTERM and SIGINT into a graceful drain through a signalfd, which sees a signal only while no
// thread accepts it. Two things would let one thread accept it and die of the default action mid-request:
// a thread that does not block the signals (threads inherit the creator's mask, so they are blocked here, before
// any thread is started), and an async `main`, whose main thread waits in libdispatch's `dispatch_main` inside
// `sigsuspend` with an empty mask. So the main thread blocks the signals and waits on a semaphore while the
// command runs on the cooperative pool. Other commands keep the default: Ctrl-C ends them.
if CommandLine.arguments.dropFirst().first == "serve" {
    var shutdownSignals = sigset_t()
    sigemptyset(&shutdownSignals)
    sigaddset(&shutdownSignals, SIGTERM)
    sigaddset(&shutdownSignals, SIGINT)
    pthread_sigmask(SIG_BLOCK, &shutdownSignals, nil)
}

/// Parses the arguments and runs the command (in an async function, so ArgumentParser's async `main` is chosen).
func runLatchkey() async { await Latchkey.main() }

let finished = DispatchSemaphore(value: 0)
Task.detached {
    await runLatchkey()
    finished.signal()
}
finished.wait()
