-- wrk script for tests/bench_serve.sh: POSTs the file named by $BENCH_BODY as JSON, and at the end
-- prints one machine-readable line with wrk's own counts and latency percentiles (microseconds).
local file = assert(io.open(assert(os.getenv("BENCH_BODY"), "BENCH_BODY not set"), "rb"))
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = "application/json"

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d p50_us=%d p99_us=%d connect_errors=%d read_errors=%d " ..
    "write_errors=%d status_errors=%d timeouts=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
end
