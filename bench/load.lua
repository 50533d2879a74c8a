-- wrk script of the bench: cycles through a pool of prepared requests, one per simulated
-- client (each with its own cohort cookie or token, so a 90/10 split really splits), and
-- prints one JSON line with the totals and latency percentiles (microseconds).
--   wrk -t1 -c50 -d10s -s bench/load.lua http://127.0.0.1:PORT/path -- <headers-file>
-- The headers file has one "Name: value" line per client; an empty file = plain GETs.
local pool = {}
local next_index = 0

function init(args)
  local file = args[1] and io.open(args[1], "r")
  if file then
    for line in file:lines() do
      local name, value = line:match("^([^:]+):%s*(.*)$")
      if name then pool[#pool + 1] = wrk.format("GET", wrk.path, { [name] = value }) end
    end
    file:close()
  end
  if #pool == 0 then pool[1] = wrk.format("GET", wrk.path) end
end

function request()
  next_index = next_index % #pool + 1
  return pool[next_index]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH-JSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
