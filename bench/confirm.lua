-- POST /api/v1/mobile/invitations/confirm, each token once. Thread n reads its tokens
-- from "<file>.<n>" (one per line). Statuses are counted per thread and summed in done(),
-- since each thread runs its own Lua state; "exhausted" counts requests made after a
-- thread ran out of tokens (they repeat its last token, and make the run invalid).
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
  position = 0
  exhausted = 0
  statuses = {}
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  if position < #tokens then
    position = position + 1
  else
    exhausted = exhausted + 1
  end
  local body = '{"token":"' .. tokens[position] .. '","new_business":{"name":"Bench Bakery"}}'
  return wrk.format(nil, nil, nil, body)
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
