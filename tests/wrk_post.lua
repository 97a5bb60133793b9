-- wrk script for tests/bench_serve.sh and the tests/load_*.sh scripts: POSTs the file named by
-- $LOAD_BODY as JSON; with $LOAD_REQUESTS set, each of the $LOAD_THREADS wrk threads stops after its share of that many
-- responses. At the end it prints one machine-readable line with wrk's counts, its error counts
-- by kind and its latency percentiles (microseconds).
local file = assert(io.open(assert(os.getenv("LOAD_BODY"), "LOAD_BODY not set"), "rb"))
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = "application/json"

local total = tonumber(os.getenv("LOAD_REQUESTS") or "")
if total then
  local quota = math.ceil(total / tonumber(os.getenv("LOAD_THREADS") or "1"))
  local count = 0
  function response(status, headers, body)
    count = count + 1
    if count >= quota then wrk.thread:stop() end
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "LOAD requests=%d duration_us=%d p50_us=%d p99_us=%d max_us=%d connect_errors=%d " ..
    "read_errors=%d write_errors=%d status_errors=%d timeouts=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
