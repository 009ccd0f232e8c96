-- Counts answers by status and reports latency percentiles. wrk runs response() in one
-- Lua state per thread, so each thread counts its own and done() sums them.
-- Optional argument: milliseconds each connection waits between requests (a fixed rate).
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  statuses = {}
  pause = tonumber(args[1])
end

function delay()
  return pause or 0
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      total[status] = (total[status] or 0) + count
    end
  end
  for status, count in pairs(total) do
    io.write(string.format("status %d %d\n", status, count))
  end
  for _, p in ipairs({50, 90, 99}) do
    io.write(string.format("latency p%d %.3f\n", p, latency:percentile(p) / 1000))
  end
end
