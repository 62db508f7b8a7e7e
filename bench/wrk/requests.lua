-- wrk script for bench/run.py: cycles through the requests (run with -t1: one
-- thread, so a unique request is sent once) listed in the file named by the
-- BENCH_REQUESTS environment variable (one a line: METHOD<TAB>PATH<TAB>TOKEN<TAB>BODY, TOKEN
-- and BODY may be empty) and reports, in one "BENCH" line, the latency percentiles and every
-- response that is not 2xx (wrk's own summary counts 3xx as success).
local requests = {}
local index = 0
bad = 0

function init(args)
  local file = assert(io.open(os.getenv("BENCH_REQUESTS"), "r"))
  for line in file:lines() do
    local method, path, token, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
    local headers = { ["X-Forwarded-Proto"] = "https", ["Accept"] = "application/json" }
    if token ~= "" then headers["Authorization"] = "Bearer " .. token end
    if body == "" then body = nil else headers["Content-Type"] = "application/json" end
    requests[#requests + 1] = wrk.format(method, path, headers, body)
  end
  file:close()
end

function request()
  index = index + 1
  if index > #requests then index = 1 end
  return requests[index]
end

function response(status, headers, body)
  if status < 200 or status > 299 then bad = bad + 1 end
end

local threads = {}
function setup(thread) threads[#threads + 1] = thread end

function done(summary, latency, requests_)
  local non2xx = 0
  for _, thread in ipairs(threads) do non2xx = non2xx + thread:get("bad") end
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d p50_us=%d p99_us=%d non2xx=%d socket_errors=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    non2xx, e.connect + e.read + e.write + e.timeout))
end
