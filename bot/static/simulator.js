// The simulator: build WeChat's XML, sign it, POST it to /wechat as WeChat's servers would,
// and show the reply XML's text as chat bubbles. No libraries, no network beyond this server.
(function () {
  "use strict";
  var chat = document.getElementById("chat");
  var form = document.getElementById("composer");
  var input = document.getElementById("message");
  var sendButton = document.getElementById("send");
  var POLL_MS = 3000;
  var openedAt = Date.now() / 1000;
  var shownAnswers = {};
  var CHOICE = /<a href="weixin:\/\/bizmsgmenu\?msgmenucontent=([^&"]*)&(?:amp;)?msgmenuid=[^"]*">([^<]*)<\/a>/g;

  // Each villager the page plays gets a new openid; the page counts them (第N位) for the person
  // trying it, and keeps the openid only in a title for the developer looking up the records.
  function newOpenid() {
    var id = "oSimulator" + Math.random().toString(36).slice(2, 12);
    var earlier = localStorage.getItem("legalbot-simulator-openid") ? 1 : 0;   // a villager from before the count
    var count = Number(localStorage.getItem("legalbot-simulator-villagers") || earlier) + 1;
    localStorage.setItem("legalbot-simulator-openid", id);
    localStorage.setItem("legalbot-simulator-villagers", String(count));
    return id;
  }
  var openid = localStorage.getItem("legalbot-simulator-openid") || newOpenid();

  // CDATA cannot contain "]]>": split it across two sections, as WeChat's own encoder does.
  function cdata(text) {
    return "<![CDATA[" + String(text).split("]]>").join("]]]]><![CDATA[>") + "]]>";
  }
  function envelope(type, fields) {
    var now = Math.floor(Date.now() / 1000);
    return "<xml><ToUserName>" + cdata("gh_legalbot_simulator") + "</ToUserName>" +
      "<FromUserName>" + cdata(openid) + "</FromUserName>" +
      "<CreateTime>" + now + "</CreateTime><MsgType>" + cdata(type) + "</MsgType>" +
      fields + "</xml>";
  }
  function textXml(text) {
    var msgId = String(Date.now()) + String(Math.floor(Math.random() * 1000)).padStart(3, "0");
    return envelope("text", "<Content>" + cdata(text) + "</Content><MsgId>" + msgId + "</MsgId>");
  }
  function eventXml(event, key) {
    return envelope("event", "<Event>" + cdata(event) + "</Event><EventKey>" + cdata(key || "") + "</EventKey>");
  }

  function bubble(kind, text) {
    var node = document.createElement("div");
    node.className = "bubble " + kind;
    if (kind === "bot") { fillReply(node, text); } else { node.textContent = text; }
    chat.appendChild(node);
    chat.scrollTop = chat.scrollHeight;
    return node;
  }
  // Reply text is shown as text; only WeChat's tappable choice links become clickable.
  function fillReply(node, text) {
    var last = 0, match;
    CHOICE.lastIndex = 0;
    while ((match = CHOICE.exec(text)) !== null) {
      node.appendChild(document.createTextNode(text.slice(last, match.index)));
      var link = document.createElement("a");
      link.className = "choice";
      link.textContent = match[2];
      link.dataset.send = decodeURIComponent(match[1]);
      link.addEventListener("click", function (e) { sendText(e.target.dataset.send); });
      node.appendChild(link);
      last = CHOICE.lastIndex;
    }
    node.appendChild(document.createTextNode(text.slice(last)));
  }

  function showReply(body) {
    if (body === "" || body === "success") {
      bubble("system", "（公众号没有回复这条消息）");
      return;
    }
    var doc = new DOMParser().parseFromString(body, "text/xml");
    var type = doc.querySelector("MsgType");
    if (!type || doc.querySelector("parsererror")) {
      bubble("system", "回复不是合法的微信 XML：" + body.slice(0, 200));
    } else if (type.textContent === "text") {
      bubble("bot", doc.querySelector("Content").textContent);
    } else if (type.textContent === "news") {
      doc.querySelectorAll("item").forEach(function (item) {
        bubble("bot", item.querySelector("Title").textContent + "\n" + item.querySelector("Description").textContent);
      });
    } else {
      var kinds = { image: "图片", voice: "语音", video: "视频", music: "音乐", transfer_customer_service: "转人工客服" };
      bubble("system", "（收到一条" + (kinds[type.textContent] || "其他") + "消息，模拟器显示不了）");
    }
  }

  async function post(xml) {
    var signed = await (await fetch("/simulator/sign", { method: "POST" })).json();
    var query = new URLSearchParams({ signature: signed.signature, timestamp: signed.timestamp,
                                      nonce: signed.nonce, openid: openid });
    var response = await fetch("/wechat?" + query.toString(), {
      method: "POST", headers: { "Content-Type": "text/xml", "X-Legalbot-Channel": "simulator" },
      body: xml });
    if (!response.ok) {
      bubble("system", "服务器返回 " + response.status);
      return;
    }
    showReply(await response.text());
  }

  async function deliver(xml) {
    sendButton.disabled = true;
    try { await post(xml); }
    catch (error) { bubble("system", "发送失败：" + error); }
    finally { sendButton.disabled = false; input.focus(); }
  }
  function sendText(text) {
    if (!text.trim()) {   // WeChat's own send button stays grey for an empty message
      bubble("system", "（消息是空的，没有发出。请先输入您想问的话。）");
      input.focus();
      return;
    }
    bubble("me", text);
    return deliver(textXml(text));
  }

  // An adviser's answer arrives by itself in WeChat (a pushed customer-service message);
  // here the page asks the server for it every few seconds.
  async function poll() {
    try {
      var response = await fetch("/simulator/inbox", { method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ openid: openid, since: openedAt }) });
      if (!response.ok) return;
      (await response.json()).messages.forEach(function (message) {
        if (shownAnswers[message.ticket_id]) return;
        shownAnswers[message.ticket_id] = true;
        bubble("bot", message.text);
      });
    } catch (error) { /* the server is restarting: try again next time */ }
  }
  setInterval(poll, POLL_MS);

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value;
    input.value = "";
    sendText(text);
  });
  document.querySelectorAll("[data-toggle]").forEach(function (button) {
    button.addEventListener("click", function () {
      var sub = button.nextElementSibling;
      document.querySelectorAll(".menu-sub").forEach(function (s) { if (s !== sub) s.hidden = true; });
      sub.hidden = !sub.hidden;
    });
  });
  document.querySelectorAll("[data-event]").forEach(function (button) {
    button.addEventListener("click", function () {
      document.querySelectorAll(".menu-sub").forEach(function (s) { s.hidden = true; });
      bubble("system", button.dataset.event === "subscribe" ? "（关注了公众号）" : "（点了菜单：" + button.textContent + "）");
      deliver(eventXml(button.dataset.event, button.dataset.key));
    });
  });
  document.getElementById("reset").addEventListener("click", function () {
    openid = newOpenid();
    chat.querySelectorAll(".bubble").forEach(function (b) { b.remove(); });
    var count = localStorage.getItem("legalbot-simulator-villagers");
    bubble("system", "（换了一个新村民：第" + count + "位）").title = openid;
  });
}());
