-- Fault injection for the s3db tests, loaded by haproxy (lua-load) in front of Ceph RGW.
-- What haproxy's configuration cannot do on its own lives here:
--   lua.s3_slowdown  (service)  answers like S3 when it throttles: 503 + <Error><Code>SlowDown…
--                               Retry-After is sent only when the frontend sets txn.retry_after.
--   lua.delay        (action)   waits the given milliseconds, then lets the request through.
--   lua.delay_jitter (action)   waits MS ± JITTER milliseconds (uniform, whole ms), then lets the
--                               request through: a same-region S3 round trip (20 ± 5 ms), as
--                               scripts/bench-latency.sh uses it.
-- Random fractions, rate limits and the black hole are plain haproxy (rand(), stick tables,
-- inspect-delay): see haproxy.cfg.in.

local request_counter = 0

-- An S3-looking request id, unique within this haproxy.
local function request_id()
  request_counter = request_counter + 1
  return string.format("FAULT%08X%08X", request_counter, math.random(0, 0x7fffffff))
end

local function xml_escape(s)
  return (s:gsub("&", "&amp;"):gsub("<", "&lt;"):gsub(">", "&gt;"):gsub('"', "&quot;"))
end

core.register_service("s3_slowdown", "http", function(applet)
  local id = request_id()
  local body = '<?xml version="1.0" encoding="UTF-8"?>\n' ..
      "<Error><Code>SlowDown</Code>" ..
      "<Message>Please reduce your request rate.</Message>" ..
      "<Resource>" .. xml_escape(applet.path or "/") .. "</Resource>" ..
      "<RequestId>" .. id .. "</RequestId></Error>"
  applet:set_status(503, "Slow Down")
  applet:add_header("content-type", "application/xml")
  applet:add_header("content-length", tostring(#body))
  applet:add_header("x-amz-request-id", id)
  local retry_after = applet:get_var("txn.retry_after")
  if retry_after ~= nil then
    applet:add_header("retry-after", tostring(retry_after))
  end
  applet:start_response()
  applet:send(body)
end)

core.register_action("delay", { "http-req" }, function(txn, ms)
  core.msleep(tonumber(ms) or 50)
end, 1)

-- `http-request lua.delay_jitter MS JITTER`: a fresh uniform draw per request, never below 0.
core.register_action("delay_jitter", { "http-req" }, function(txn, ms, jitter)
  local mid, spread = tonumber(ms) or 20, tonumber(jitter) or 0
  core.msleep(math.max(0, math.random(mid - spread, mid + spread)))
end, 2)
