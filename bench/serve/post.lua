-- bench/serve/post.lua - wrk script: POST the file $BODY_FILE as JSON with
-- keep-alive (and $AUTH as the Authorization header when set), then print
-- one JSON line of results from the done hook:
--   {"requests","duration_s","rps","bytes","p50_ms","p90_ms","p99_ms",
--    "max_ms","non_2xx","errors":{"connect","read","write","timeout"}}
-- wrk counts every status above 399 as an error ("status"); the driver
-- reads that as the non-2xx count (no route here answers 3xx).
local f = assert(io.open(assert(os.getenv("BODY_FILE"), "BODY_FILE"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
local auth = os.getenv("AUTH")
if auth and auth ~= "" then
    wrk.headers["Authorization"] = auth
end

-- latency values are microseconds
local function ms(us)
    return string.format("%.3f", us / 1000)
end

function done(summary, latency, requests)
    local e = summary.errors
    local secs = summary.duration / 1e6
    io.write(string.format(
        '{"requests":%d,"duration_s":%.3f,"rps":%.1f,"bytes":%d,' ..
        '"p50_ms":%s,"p90_ms":%s,"p99_ms":%s,"max_ms":%s,"non_2xx":%d,' ..
        '"errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d}}\n',
        summary.requests, secs, summary.requests / secs, summary.bytes,
        ms(latency:percentile(50)), ms(latency:percentile(90)),
        ms(latency:percentile(99)), ms(latency.max), e.status,
        e.connect, e.read, e.write, e.timeout))
end
