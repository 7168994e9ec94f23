-- wrk script for scripts/search-bench.sh HTTP=1: each request takes the next
-- of the distinct request paths in $SEARCH_PATHS (one a line; each thread
-- starts at its own offset), and the run ends with p50/p90/p99 and the count
-- of non-2xx answers and of results pages that show no posts ("No posts
-- match"), every path in the file being one that should find posts.
local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

function init(args)
  paths = {}
  for line in io.lines(os.getenv("SEARCH_PATHS")) do
    if line ~= "" then paths[#paths + 1] = line end
  end
  i = (id - 1) * math.floor(#paths / 2)
  npaths, non2xx, empty, answers = #paths, 0, 0, 0
  firstEmpty = ""
end

function request()
  i = i % #paths + 1
  last = paths[i]
  return wrk.format("GET", last)
end

function response(status, headers, body)
  answers = answers + 1
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  elseif body:find("No posts match", 1, true) then
    empty = empty + 1
    if firstEmpty == "" then firstEmpty = last end
  end
end

function done(summary, latency, requests)
  local n, e, a, fe, np = 0, 0, 0, "", 0
  for _, t in ipairs(threads) do
    n = n + t:get("non2xx")
    e = e + t:get("empty")
    a = a + t:get("answers")
    np = t:get("npaths")
    if fe == "" then fe = t:get("firstEmpty") end
  end
  io.write(string.format("paths %d  requests %d  p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  max %.2f ms  non-2xx %d  empty pages %d  socket errors %d\n",
    np, summary.requests, latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, n, e,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
  if e > 0 then io.write("EMPTY results pages (one of the paths then in flight: " .. fe .. ")\n") end
  if n > 0 then io.write("NON-2XX answers: " .. n .. "\n") end
end
