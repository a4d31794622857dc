-- wrk script: signed WeChat text messages, each with a MsgId no other request uses.
-- The query string (signature over token, timestamp, nonce) is fixed for the run; the body
-- changes: a distinct MsgId and openid per request, questions taken round-robin.
local counter = 0
local thread_no = 0
local questions = {}

function setup(thread)
  thread_no = thread_no + 1
  thread:set("tid", thread_no)
end

function init(args)
  for q in string.gmatch(os.getenv("BENCH_QUESTIONS") or "借钱不还怎么办", "[^|]+") do
    table.insert(questions, q)
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
  return wrk.format(nil, nil, nil, body)
end
