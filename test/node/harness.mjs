// Shared harness for the Node driver tests: builds (or takes $FIRN_BIN) and starts a
// real firn server on a free port with a fresh data directory for the test file that
// imports it, and stops it when that file's tests end. node --test runs each file in
// its own process, so each file gets its own server.

import { before, after } from 'node:test';
import { spawn, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

process.env.SNOWFLAKE_DISABLE_PLATFORM_DETECTION = 'true';
process.env.SF_TELEMETRY_DISABLE_CONNECTION_SHAPE = '1';

export const { default: snowflake } = await import('snowflake-sdk');

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const tmp = mkdtempSync(path.join(os.tmpdir(), 'firn-node-'));
snowflake.configure({
  logLevel: 'ERROR',
  logFilePath: path.join(tmp, 'snowflake.log'),
  additionalLogToConsole: false,
});

export const password = randomBytes(18).toString('base64url');
let server; // child process
let serverOutput = '';
export let port;

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port: p } = srv.address();
      srv.close(() => resolve(p));
    });
  });
}

export function firnBinary() {
  if (process.env.FIRN_BIN) {
    return process.env.FIRN_BIN;
  }
  const bin = path.join(tmp, process.platform === 'win32' ? 'firn.exe' : 'firn');
  execFileSync('go', ['build', '-o', bin, './cmd/firn'], {
    cwd: repoRoot,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, GOTOOLCHAIN: process.env.GOTOOLCHAIN ?? 'local' },
  });
  return bin;
}

// waitHealthy polls GET /healthz until it answers 200. Bounded: this waits for
// process start-up, not for anything the tests do.
export async function waitHealthy() {
  const url = `http://127.0.0.1:${port}/healthz`;
  for (let i = 0; i < 300; i++) {
    if (server.exitCode !== null) {
      throw new Error(`firn exited with ${server.exitCode} before becoming healthy:\n${serverOutput}`);
    }
    try {
      const res = await fetch(url);
      if (res.status === 200) {
        return;
      }
    } catch {
      // not listening yet
    }
    await delay(100);
  }
  throw new Error(`firn did not answer 200 on ${url} within 30s:\n${serverOutput}`);
}

before(async () => {
  const bin = firnBinary();
  port = await freePort();
  server = spawn(bin, ['serve', '--listen', `127.0.0.1:${port}`, '--data-dir', path.join(tmp, 'data')], {
    env: { ...process.env, FIRN_ADMIN_PASSWORD: password },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const collect = (chunk) => {
    serverOutput += chunk;
  };
  server.stdout.on('data', collect);
  server.stderr.on('data', collect);
  await waitHealthy();
});

after(async () => {
  if (server && server.exitCode === null) {
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGTERM');
    await exited;
  }
  rmSync(tmp, { recursive: true, force: true });
});

export function options(overrides = {}) {
  return {
    account: 'FIRN',
    username: 'ADMIN',
    password,
    host: '127.0.0.1',
    port,
    protocol: 'http',
    ...overrides,
  };
}

export async function connect(overrides) {
  const conn = snowflake.createConnection(options(overrides));
  await new Promise((resolve, reject) => {
    conn.connect((err) => (err ? reject(err) : resolve()));
  });
  return conn;
}

export function destroy(conn) {
  return new Promise((resolve, reject) => {
    conn.destroy((err) => (err ? reject(err) : resolve()));
  });
}

export function execute(conn, sqlText, binds) {
  return new Promise((resolve, reject) => {
    conn.execute({
      sqlText,
      binds,
      complete: (err, stmt, rows) => (err ? reject(err) : resolve({ stmt, rows })),
    });
  });
}

// withConnection runs fn on a fresh connection and always destroys it.
export async function withConnection(fn) {
  const conn = await connect();
  try {
    return await fn(conn);
  } finally {
    await destroy(conn);
  }
}

