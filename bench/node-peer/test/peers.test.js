'use strict';
// Both Node.js peers of the benchmark (bench/node-peer, bench/node-peer-check) against the
// same cases: the checks importhook makes (path, secret, JSON content type, body cap, JSON
// parse) and the login-middle-name answer. A peer that skipped a check, or answered
// differently from the other, would make the benchmark compare unlike services.
//
//   node --test bench/node-peer/test/

const assert = require('node:assert/strict');
const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const https = require('node:https');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { after, before, describe, test } = require('node:test');

const BENCH = path.join(__dirname, '..', '..');
const PEERS = {
  'node-peer': path.join(BENCH, 'node-peer', 'server.js'),
  'node-peer-check': path.join(BENCH, 'node-peer-check', 'server.mjs'),
};
const SECRET = 'test-secret-0123456789';
const REQUEST = fs.readFileSync(path.join(BENCH, 'request.json'));

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function post(port, { method = 'POST', path: urlPath = '/okta/import', headers = {}, body = REQUEST } = {}) {
  return new Promise((resolve, reject) => {
    const req = https.request({
      host: '127.0.0.1', port, method, path: urlPath, rejectUnauthorized: false, agent: false,
      headers: { authorization: SECRET, 'content-type': 'application/json', ...headers },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function event(login, middleName, conflicts = ['login']) {
  return JSON.stringify({
    data: {
      context: { conflicts },
      appUser: { profile: { middleName } },
      user: { profile: { login } },
    },
  });
}

const UPDATE = (login) => ({ commands: [{ type: 'com.okta.user.profile.update', value: { login } }] });

let tmp;
before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'node-peers-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
    '-nodes', '-days', '1', '-subj', '/CN=localhost', '-keyout', path.join(tmp, 'key.pem'),
    '-out', path.join(tmp, 'cert.pem')], { stdio: 'ignore' });
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

for (const [name, script] of Object.entries(PEERS)) {
  describe(name, () => {
    let child;
    let port;
    before(async () => {
      port = await freePort();
      child = spawn(process.execPath, [script], {
        detached: true,
        stdio: 'ignore',
        env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', WORKERS: '1', HOOK_SECRET: SECRET,
          TLS_CERT: path.join(tmp, 'cert.pem'), TLS_KEY: path.join(tmp, 'key.pem') },
      });
      for (let i = 0; ; i += 1) {
        try {
          await post(port, { method: 'GET' });
          break;
        } catch (e) {
          if (i > 200) throw e;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    });
    after(() => {
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
    });

    test('the benchmark request gets the login update', async () => {
      const { status, body } = await post(port);
      assert.equal(status, 200);
      assert.deepEqual(JSON.parse(body), UPDATE('sally.elizabeth.admin@clouditude.net'));
    });
    test('another path or method is 404', async () => {
      assert.equal((await post(port, { path: '/other' })).status, 404);
      assert.equal((await post(port, { method: 'PUT' })).status, 404);
    });
    test('a wrong or missing secret is 401', async () => {
      assert.equal((await post(port, { headers: { authorization: `${SECRET}x` } })).status, 401);
      assert.equal((await post(port, { headers: { authorization: SECRET.replace('0', '1') } })).status, 401);
    });
    test('a body not declared JSON is 415', async () => {
      assert.equal((await post(port, { headers: { 'content-type': 'text/plain' } })).status, 415);
    });
    test('a body over 256 KiB is 413, declared or not', async () => {
      const big = Buffer.alloc(256 * 1024 + 1, 0x20);
      assert.equal((await post(port, { body: big })).status, 413);
      assert.equal((await post(port, { body: big, headers: { 'transfer-encoding': 'chunked' } })).status, 413);
    });
    test('a body that does not parse is 400', async () => {
      assert.equal((await post(port, { body: '{"data":' })).status, 400);
    });
    test('the middle name goes after the first part, or at the end of a one-part login', async () => {
      assert.deepEqual(JSON.parse((await post(port, { body: event('jo@x.io', ' Anna  Maria ') })).body),
        UPDATE('jo.anna.maria@x.io'));
    });
    test('no conflict, no middle name, or a login that has it already: 204', async () => {
      assert.equal((await post(port, { body: event('sally.admin@x.io', 'Eli', ['email']) })).status, 204);
      assert.equal((await post(port, { body: event('sally.admin@x.io', '  ') })).status, 204);
      assert.equal((await post(port, { body: event('sally.eli.admin@x.io', 'ELI') })).status, 204);
    });
  });
}
