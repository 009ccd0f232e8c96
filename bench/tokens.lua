-- POSTs {token} to the app's preview or confirm, each token once. Thread n reads its
-- tokens from "<prefix>.<n>", one a line. Arguments: prefix, "preview" or "confirm",
-- and optionally milliseconds each connection waits between requests (a fixed rate).
-- Statuses are counted per thread and summed in done(); "exhausted" counts requests made
-- after a thread ran out of tokens (they repeat its last one: such a run is invalid).
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

function init(args)
  tokens = {}
  for line in io.lines(args[1] .. "." .. id) do
    tokens[#tokens + 1] = line
  end
  if args[2] == "confirm" then
    suffix = '","new_business":{"name":"Bench Bakery"}}'
  else
    suffix = '"}'
  end
  pause = tonumber(args[3])
  position, exhausted, statuses = 0, 0, {}
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

function delay()
  return pause or 0
end

function request()
  if position < #tokens then
    position = position + 1
  else
    exhausted = exhausted + 1
  end
  return wrk.format(nil, nil, nil, '{"token":"' .. tokens[position] .. suffix)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total, spent = {}, 0
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      total[status] = (total[status] or 0) + count
    end
    spent = spent + thread:get("exhausted")
  end
  for status, count in pairs(total) do
    io.write(string.format("status %d %d\n", status, count))
  end
  io.write(string.format("exhausted %d\n", spent))
  for _, p in ipairs({50, 90, 99}) do
    io.write(string.format("latency p%d %.3f\n", p, latency:percentile(p) / 1000))
  end
end
