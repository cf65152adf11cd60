// A minimal OpenAI-compatible streaming server over cleartext HTTP/2 (h2c, prior
// knowledge), for tests/server/openai_http2_test.cpp: POST /v1/completions answers with
// server-sent events, one chunk per token (max_tokens of them), a last chunk with
// finish_reason and usage, then "data: [DONE]". Each request appends a line
// "h2 <session number> <max_tokens> <prompt tokens>" to the log file given as
// the first argument. Prints "port N" once listening on 127.0.0.1.
'use strict';
const http2 = require('http2');
const fs = require('fs');

const log = process.argv[2];
let sessions = 0;
const server = http2.createServer();
server.on('session', (session) => {
  session.jpNumber = ++sessions;
});
server.on('stream', (stream, headers) => {
  if (headers[':method'] !== 'POST' || headers[':path'] !== '/v1/completions') {
    stream.respond({':status': 404, 'content-type': 'application/json'});
    stream.end('{"error":"not found"}');
    return;
  }
  let body = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk) => { body += chunk; });
  stream.on('end', () => {
    let req;
    try {
      req = JSON.parse(body);
    } catch (e) {
      stream.respond({':status': 400, 'content-type': 'application/json'});
      stream.end('{"error":"bad json"}');
      return;
    }
    const n = req.max_tokens | 0;
    const prompt = Array.isArray(req.prompt) ? req.prompt.length : 0;
    fs.appendFileSync(log, `h2 ${stream.session.jpNumber} ${n} ${prompt}\n`);
    stream.respond({':status': 200, 'content-type': 'text/event-stream', 'cache-control': 'no-cache'});
    let i = 0;
    const next = () => {
      if (i < n) {
        const chunk = {id: 'h2', object: 'text_completion', choices: [{index: 0, text: ` t${i}`, finish_reason: null}]};
        stream.write(`data: ${JSON.stringify(chunk)}\n\n`);
        i++;
        setImmediate(next);
        return;
      }
      const last = {
        id: 'h2', object: 'text_completion', choices: [{index: 0, text: '', finish_reason: 'length'}],
        usage: {prompt_tokens: prompt, completion_tokens: n, total_tokens: prompt + n},
      };
      stream.write(`data: ${JSON.stringify(last)}\n\n`);
      stream.end('data: [DONE]\n\n');
    };
    next();
  });
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`port ${server.address().port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
