-- wrk script: signed WeChat text messages, each with a MsgId no other request uses.
-- Each request takes its own signed query string (signature over token, timestamp, nonce) from
-- the file BENCH_QUERIES, as WeChat signs each request afresh (the bot takes a nonce for one
-- body only); thread n of BENCH_THREADS takes every n-th line. The body: a distinct MsgId and
-- openid per request, questions taken round-robin.
local counter = 0
local thread_no = 0
local questions = {}
local queries = {}

function setup(thread)
  thread_no = thread_no + 1
  thread:set("tid", thread_no)
end

function init(args)
  for q in string.gmatch(os.getenv("BENCH_QUESTIONS") or "借钱不还怎么办", "[^|]+") do
    table.insert(questions, q)
  end
  local threads, line_no = tonumber(os.getenv("BENCH_THREADS") or "1"), 0
  for line in io.lines(os.getenv("BENCH_QUERIES")) do
    if line_no % threads == tid - 1 then table.insert(queries, line) end
    line_no = line_no + 1
  end
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "text/xml"
end

function request()
  counter = counter + 1
  local id = tid * 1000000000 + counter
  local q = questions[(counter % #questions) + 1]
  local body = string.format(
    "<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><FromUserName><![CDATA[oBench%02d%06d]]></FromUserName>" ..
    "<CreateTime>%d</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[%s]]></Content>" ..
    "<MsgId>%d</MsgId></xml>", tid, counter % 5000, os.time(), q, id)
  return wrk.format(nil, "/wechat?" .. queries[(counter - 1) % #queries + 1], nil, body)
end
