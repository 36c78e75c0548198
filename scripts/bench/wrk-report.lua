-- wrk script for scripts/bench/http-healthz: plain GETs; prints one RESULT line with µs percentiles and the
-- status classes, like the webhook kit's webhook.lua does.
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) ok, other = 0, 0 end
function response(status, headers, body)
   if status >= 200 and status < 300 then ok = ok + 1 else other = other + 1 end
end
function done(summary, latency, requests)
   local o, x = 0, 0
   for _, t in ipairs(threads) do o = o + t:get("ok"); x = x + t:get("other") end
   local e = summary.errors
   local secs = summary.duration / 1e6
   io.write(string.format(
      "RESULT rps=%.0f p50_us=%d p90_us=%d p99_us=%d p999_us=%d max_us=%d requests=%d duration_s=%.3f ok=%d other=%d errors=%d\n",
      summary.requests / secs, latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency:percentile(99.9), latency.max, summary.requests, secs, o, x,
      e.connect + e.read + e.write + e.timeout))
end
