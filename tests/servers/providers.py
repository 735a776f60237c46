"""A local HTTP server speaking the request shapes of Slack and Teams
incoming webhooks, Twilio's Messages API and plain JSON APIs, for flowc's
provider tests. Standard library only.

Usage: python3 providers.py LOG_FILE [PORT]
Prints the port it listens on (127.0.0.1; any free one unless PORT is
given), then serves until killed. Every
request is appended to LOG_FILE as one JSON line. Paths choose behaviour:
  /slack/NAME, /teams/NAME   ok -> 200 (Teams: 202); flaky -> 500 once,
                             then success; gone -> 404
  /2010-04-01/Accounts/SID/Messages.json
                             basic auth SID:secret, form To/From/Body -> 201;
                             To +15550000000 -> 400 (Twilio 21211);
                             To +15550000429 -> 429 once, then 201
  /2010-04-01/Accounts/SID/Calls.json
                             creates a call (201); its status, read from
                             .../Calls/CA<To>.json, is final at the second look:
                             To ...0001 -> completed by a person, ...0002 ->
                             completed by a machine, ...0003 -> no-answer,
                             ...0004 -> failed; ...0009 -> in progress for 2
                             seconds, then completed by a person; ...0008 ->
                             the first look fails (503, not JSON), the next
                             finds it completed by a person; ...0007 ->
                             ringing at every look (only a status
                             callback ends it)
  /v1/chat/completions       an OpenAI-style answer: the JSON object that the
                             "fields" of the system message ask for, with
                             segment "enterprise" and sells_b2b true;
                             a user message containing "garbage" gets prose,
                             "runaway" an answer of 600 KB, "login page" an
                             HTML page with status 200.
                             With tools and no tool results yet, it calls
                             each tool once (web_search "acme & co", then
                             fetch_url of /api/company here and of a host off
                             the allow-list); then segment is "enterprise"
                             only if a tool result holds the company's size
  /search                    bearer search-key -> results for the q param
  /api/company               200 {"company": {"size": 42, "name": <q param>}}
  /api/echo                  200 with the request's JSON body under "echo"
  /api/redirect-on           302 to /api/company
  /api/redirect-off          302 to http://not-allowed.example/steal
  /api/fail-503              503
"""

import base64
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

LOG = sys.argv[1]
SEEN = {}
CREATED = {}
LOCK = threading.Lock()


def seen(key):
    with LOCK:
        SEEN[key] = SEEN.get(key, 0) + 1
        return SEEN[key]


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, body=None, headers=None):
        data = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace")
        url = urlparse(self.path)
        with LOCK, open(LOG, "a") as log:
            log.write(json.dumps({
                "method": self.command,
                "path": url.path,
                "query": url.query,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": body,
                "time": time.time(),
            }) + "\n")
        parts = url.path.strip("/").split("/")
        if parts[0] in ("slack", "teams") and len(parts) == 2:
            name = parts[1]
            if name == "gone":
                return self.reply(404, b"no_service")
            if name == "flaky" and seen(url.path) == 1:
                return self.reply(500, b"oops")
            if name == "slow-down" and seen(url.path) == 1:
                return self.reply(429, b"rate_limited", {"Retry-After": "3600"})
            if name == "slow-date" and seen(url.path) == 1:
                later = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 7200))
                return self.reply(503, b"maintenance", {"Retry-After": later})
            # Slack answers "ok"; Teams Workflows webhooks accept with 202.
            return self.reply(200, b"ok") if parts[0] == "slack" else self.reply(202)
        if parts[:2] == ["2010-04-01", "Accounts"] and parts[-1] == "Messages.json":
            sid = parts[2]
            expected = "Basic " + base64.b64encode(f"{sid}:secret".encode()).decode()
            if self.headers.get("Authorization") != expected:
                return self.reply(401, {"code": 20003, "message": "Authenticate"})
            form = {k: v[0] for k, v in parse_qs(body).items()}
            if form.get("To") == "+15550000000":
                return self.reply(400, {"code": 21211, "message": "The 'To' number is not valid."})
            if form.get("To") == "+15550000429" and seen("429") == 1:
                return self.reply(429, {"code": 20429, "message": "Too Many Requests"})
            return self.reply(201, {"sid": "SM" + "0" * 32, "status": "queued", "to": form.get("To")})
        if parts[:2] == ["2010-04-01", "Accounts"] and parts[-1] == "Calls.json":
            form = {k: v[0] for k, v in parse_qs(body).items()}
            sid = "CA" + form.get("To", "").lstrip("+")
            with LOCK:
                CREATED[sid] = time.time()
            return self.reply(201, {"sid": sid, "status": "queued"})
        if parts[:2] == ["2010-04-01", "Accounts"] and parts[-2] == "Calls":
            call = parts[-1].removesuffix(".json")
            if call.endswith("9") and time.time() - CREATED.get(call, 0) < 2:
                return self.reply(200, {"sid": call, "status": "in-progress"})
            if call.endswith("8") and seen(call) == 1:
                return self.reply(503, b"upstream unavailable")
            if call.endswith("7"):
                # Rings until its status callback says how it ended.
                return self.reply(200, {"sid": call, "status": "ringing"})
            if call.endswith("8") or call.endswith("9"):
                return self.reply(200, {"sid": call, "status": "completed", "answered_by": "human"})
            if seen(call) == 1:
                return self.reply(200, {"sid": call, "status": "in-progress"})
            final = {
                "1": {"status": "completed", "answered_by": "human"},
                "2": {"status": "completed", "answered_by": "machine_end_beep"},
                "3": {"status": "no-answer"},
                "4": {"status": "failed"},
            }.get(call[-1], {"status": "completed", "answered_by": "human"})
            return self.reply(200, dict(final, sid=call))
        if url.path == "/v1/chat/completions":
            return self.chat(json.loads(body))
        if url.path == "/search":
            if self.headers.get("Authorization") != "Bearer search-key":
                return self.reply(401, {"error": "no key"})
            query = parse_qs(url.query).get("q", [""])[0]
            return self.reply(200, {"query": query, "results": [{"title": "Acme & Co", "url": "https://acme.example"}]})
        if url.path == "/api/company":
            name = parse_qs(url.query).get("name", [""])[0]
            return self.reply(200, {"company": {"size": 42, "name": name}})
        if url.path == "/api/secure":
            if self.headers.get("Authorization") != "Bearer enrich-secret-42":
                return self.reply(401, {"error": "bad key"})
            return self.reply(200, {"tier": "gold"})
        if url.path == "/api/echo":
            return self.reply(200, {"echo": json.loads(body) if body else None})
        if url.path == "/api/redirect-on":
            return self.reply(302, headers={"Location": "/api/company?name=redirected"})
        if url.path == "/api/redirect-off":
            return self.reply(302, headers={"Location": "http://not-allowed.example/steal"})
        if url.path == "/api/fail-503":
            return self.reply(503, {"error": "busy"})
        return self.reply(404, {"error": "unknown path"})

    def chat(self, request):
        messages = request["messages"]
        question = next(m["content"] for m in messages if m["role"] == "user")
        fields = request["response_format"]["json_schema"]["schema"]["properties"]
        results = [m["content"] for m in messages if m["role"] == "tool"]
        tools = [t["function"]["name"] for t in request.get("tools", [])]
        if "runaway" in question:
            filler = "x" * 300_000
            content = json.dumps({k: filler for k in fields})
            return self.reply(200, {"choices": [{"message": {"role": "assistant", "content": content}}]})
        if "login page" in question:
            return self.reply(200, b"<!doctype html><html><body>Sign in</body></html>",
                              {"Content-Type": "text/html"})
        if tools and not results:
            port = self.server.server_address[1]
            arguments = {
                "web_search": [{"query": "acme & co"}],
                "fetch_url": [
                    {"url": f"http://127.0.0.1:{port}/api/company?name=fetched"},
                    {"url": "http://not-allowed.example/steal"},
                ],
            }
            calls = [
                {"id": f"call_{i}", "type": "function",
                 "function": {"name": name, "arguments": json.dumps(args)}}
                for i, (name, args) in enumerate(
                    (name, args) for name in tools for args in arguments[name])
            ]
            message = {"role": "assistant", "content": None, "tool_calls": calls}
            return self.reply(200, {"choices": [{"message": message}]})
        big = not tools or any('"size": 42' in r for r in results)
        answers = {"segment": "enterprise" if big else "smb", "sells_b2b": True}
        content = "I think so." if "garbage" in question else json.dumps({k: answers.get(k, "?") for k in fields})
        return self.reply(200, {"choices": [{"message": {"role": "assistant", "content": content}}]})

    do_GET = do_POST = do_PUT = handle_any


server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[2]) if len(sys.argv) > 2 else 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
