-- wrk script of bench/echo.py: replays pre-signed raw HTTP requests, each once, and reports as JSON.
--
-- ECHO_BENCH_REQUESTS names a file of raw GET requests (each ends with an empty line, no body).
-- Thread k of n keeps the requests i with i % n == k, so no X-Request-Id is sent twice unless a thread
-- runs out of requests and starts over ("wrapped" counts those restarts). done() prints one line
-- "ECHO_BENCH_JSON {...}": completed requests, duration, socket errors, responses by status, latency.

local threads = {}
local thread_count = 0

function setup(thread)
   thread:set("tid", thread_count)
   thread_count = thread_count + 1
   table.insert(threads, thread)
end

function init(args)
   local n = tonumber(os.getenv("ECHO_BENCH_THREADS"))
   local file = assert(io.open(os.getenv("ECHO_BENCH_REQUESTS"), "rb"))
   local data = file:read("*a")
   file:close()
   pool, position, wrapped, statuses = {}, 0, 0, {}
   local i = 0
   for raw in data:gmatch("(.-\r\n\r\n)") do
      if i % n == tid then pool[#pool + 1] = raw end
      i = i + 1
   end
end

function request()
   position = position + 1
   if position > #pool then
      position, wrapped = 1, wrapped + 1
   end
   return pool[position]
end

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
   local codes, reused = {}, 0
   for _, thread in ipairs(threads) do
      for code, count in pairs(thread:get("statuses")) do
         codes[code] = (codes[code] or 0) + count
      end
      reused = reused + thread:get("wrapped")
   end
   local parts = {}
   for code, count in pairs(codes) do
      parts[#parts + 1] = string.format('"%d": %d', code, count)
   end
   local e = summary.errors
   io.write(string.format(
      'ECHO_BENCH_JSON {"requests": %d, "duration_us": %d, "statuses": {%s}, "wrapped": %d, ' ..
      '"socket_errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d}, ' ..
      '"latency_us": {"p50": %d, "p90": %d, "p99": %d, "max": %d}}\n',
      summary.requests, summary.duration, table.concat(parts, ", "), reused,
      e.connect, e.read, e.write, e.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
