// A second lean Node.js peer, written apart from bench/node-peer/server.js to check it: if the
// two cost different CPU per request, one of them does work the other does not. Same contract
// (an Okta User Import Inline Hook answering the login-middle-name strategy), a different
// structure: an ES module, settings from env vars only, the body read into one buffer sized
// from Content-Length, the strategy with string scans instead of regular expressions.
//
//   PORT=8443 HOST=127.0.0.1 TLS_CERT=cert.pem TLS_KEY=key.pem HOOK_SECRET=s3cret WORKERS=2 \
//     node bench/node-peer-check/server.mjs
//
// POST /okta/import with `Authorization: <secret>` and a JSON body of at most 256 KiB:
// 200 {"commands":[{"type":"com.okta.user.profile.update","value":{"login":...}}]} when the
// login is in conflict and the app user has a middle name, else 204; 404 for another path or
// method, 401 for a wrong secret, 415 for a body that is not declared JSON, 413 for too large,
// 400 for a body that does not parse.

import cluster from 'node:cluster';
import { timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { availableParallelism } from 'node:os';

const LIMIT = 262144;
const env = process.env;

function setting(name, fallback) {
  const value = env[name] ?? fallback;
  if (value === undefined || value === '') {
    console.error(`node-peer-check: ${name} is required`);
    process.exit(2);
  }
  return value;
}

const port = Number(setting('PORT', '8443'));
const host = setting('HOST', '127.0.0.1');
const workers = Number(setting('WORKERS', String(availableParallelism())));
const secret = Buffer.from(setting('HOOK_SECRET'));

// Lowercase, trim, and join the whitespace-separated words of a middle name with dots.
function middleSlug(name) {
  let out = '';
  let word = '';
  for (const ch of name.toLowerCase()) {
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || ch === '\f' || ch === '\v') {
      if (word) { out = out ? `${out}.${word}` : word; word = ''; }
    } else {
      word += ch;
    }
  }
  if (word) out = out ? `${out}.${word}` : word;
  return out;
}

// The login with `middle` after the first dot-separated part of its local part, or undefined
// when one of those parts already is the middle name (the request was answered before).
function withMiddle(login, middle) {
  const at = login.lastIndexOf('@');
  const local = at < 0 ? login : login.substring(0, at);
  const rest = at < 0 ? '' : login.substring(at);
  let start = 0;
  for (;;) {
    const end = local.indexOf('.', start);
    const part = local.substring(start, end < 0 ? local.length : end);
    if (part.toLowerCase() === middle) return undefined;
    if (end < 0) break;
    start = end + 1;
  }
  const dot = local.indexOf('.');
  if (dot < 0) return `${local}.${middle}${rest}`;
  return `${local.substring(0, dot)}.${middle}${local.substring(dot)}${rest}`;
}

// The JSON answer for an Okta import request, or undefined for "nothing to change".
function respond(request) {
  const data = request?.data;
  const conflicts = data?.context?.conflicts;
  if (!Array.isArray(conflicts) || conflicts.indexOf('login') < 0) return undefined;
  const middleName = data.appUser?.profile?.middleName;
  const login = data.user?.profile?.login;
  if (typeof middleName !== 'string' || typeof login !== 'string') return undefined;
  const middle = middleSlug(middleName);
  if (!middle) return undefined;
  const updated = withMiddle(login, middle);
  if (updated === undefined) return undefined;
  return JSON.stringify({ commands: [{ type: 'com.okta.user.profile.update', value: { login: updated } }] });
}

function fail(res, status, close) {
  res.statusCode = status;
  if (close) res.setHeader('Connection', 'close');
  res.end();
}

function secretMatches(given) {
  if (given === undefined || Buffer.byteLength(given) !== secret.length) return false;
  return timingSafeEqual(Buffer.from(given), secret);
}

function onRequest(req, res) {
  const q = req.url.indexOf('?');
  const path = q < 0 ? req.url : req.url.substring(0, q);
  if (req.method !== 'POST' || path !== '/okta/import') { req.resume(); return fail(res, 404); }
  if (!secretMatches(req.headers.authorization)) { req.resume(); return fail(res, 401); }
  const type = req.headers['content-type'];
  if (type === undefined || !type.toLowerCase().startsWith('application/json')) {
    req.resume();
    return fail(res, 415);
  }
  const declared = req.headers['content-length'] === undefined ? -1 : Number(req.headers['content-length']);
  if (declared > LIMIT) { req.resume(); return fail(res, 413, true); }
  let body = Buffer.allocUnsafe(declared >= 0 ? declared : 16384);
  let length = 0;
  let over = false;
  req.on('data', (chunk) => {
    if (over) return;
    if (length + chunk.length > LIMIT) { over = true; fail(res, 413, true); return; }
    if (length + chunk.length > body.length) {
      const bigger = Buffer.allocUnsafe(Math.min(LIMIT, Math.max(body.length * 2, length + chunk.length)));
      body.copy(bigger, 0, 0, length);
      body = bigger;
    }
    chunk.copy(body, length);
    length += chunk.length;
  });
  req.on('end', () => {
    if (over) return;
    let parsed;
    try {
      parsed = JSON.parse(body.toString('utf8', 0, length));
    } catch {
      return fail(res, 400);
    }
    const answer = respond(parsed);
    if (answer === undefined) return fail(res, 204);
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(answer) });
    res.end(answer);
  });
}

if (cluster.isPrimary) {
  let stopping = false;
  for (let i = 0; i < workers; i += 1) cluster.fork();
  cluster.on('exit', () => {
    if (!stopping) cluster.fork();
    else if (Object.keys(cluster.workers).length === 0) process.exit(0);
  });
  const stop = () => {
    stopping = true;
    for (const worker of Object.values(cluster.workers)) worker.process.kill('SIGTERM');
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  console.log(`node-peer-check: ${workers} worker(s) on https://${host}:${port}/okta/import`);
} else {
  const server = createServer({ cert: readFileSync(setting('TLS_CERT')), key: readFileSync(setting('TLS_KEY')) }, onRequest);
  // Idle keep-alive connections outlive the benchmark's pauses between runs.
  server.keepAliveTimeout = 120000;
  server.headersTimeout = 121000;
  server.listen(port, host);
  process.on('SIGTERM', () => process.exit(0));
}
