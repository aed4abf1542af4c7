// Key-pair (SNOWFLAKE_JWT) logins through the unmodified snowflake-sdk Node.js driver
// against a real firn server, with keys made by the openssl commands users run (the
// seed's des3-encrypted PKCS#8 key included). Start-up is the same as driver.test.mjs:
// the server is built (or taken from $FIRN_BIN), started on a free port with a fresh
// data directory, and stopped when the tests end.
//
// Run: cd test/node && npm ci && node --test keypair.test.mjs

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { snowflake, tmp, password, port, options, connect, destroy, execute } from './harness.mjs';
// openssl runs the openssl CLI in tmp and returns its standard output.
function openssl(args, input) {
  return execFileSync('openssl', args, { cwd: tmp, input, stdio: ['pipe', 'pipe', 'pipe'] });
}

// The public key body as users paste it into RSA_PUBLIC_KEY: the PEM without armour.
function publicKeyBody(pubPem) {
  return pubPem
    .toString()
    .split('\n')
    .filter((l) => l && !l.startsWith('-----'))
    .join('');
}

const passphrase = randomBytes(12).toString('hex');
let plainKeyPem; // unencrypted PKCS#8 PEM (key 1)
let encKeyPath; // des3-encrypted PKCS#8 file (key 2)

// setUp makes the keys and the user once. It is not a second before() hook: Node 20
// runs root-level before hooks concurrently, and this needs the server up.
let setUpDone;
function setUp() {
  setUpDone ??= makeKeysAndUser();
  return setUpDone;
}

async function makeKeysAndUser() {
  // Key 1: unencrypted PKCS#8, as `openssl genrsa 2048 | openssl pkcs8 -topk8 -nocrypt`.
  const rsa1 = openssl(['genrsa', '2048']);
  plainKeyPem = openssl(['pkcs8', '-topk8', '-inform', 'PEM', '-nocrypt'], rsa1).toString();
  const pub1 = openssl(['rsa', '-pubout'], plainKeyPem);
  // Key 2: the seed's command, `openssl pkcs8 -topk8 -v2 des3`, with a passphrase.
  const rsa2 = openssl(['genrsa', '2048']);
  encKeyPath = path.join(tmp, 'rsa_key.p8');
  openssl(['pkcs8', '-topk8', '-v2', 'des3', '-inform', 'PEM', '-out', encKeyPath, '-passout', `pass:${passphrase}`], rsa2);
  const pub2 = openssl(['rsa', '-in', encKeyPath, '-passin', `pass:${passphrase}`, '-pubout']);
  assert.match(readFileSync(encKeyPath, 'utf8'), /BEGIN ENCRYPTED PRIVATE KEY/);

  const conn = await connect();
  try {
    await execute(
      conn,
      `CREATE USER KP_NODE TYPE = SERVICE DEFAULT_ROLE = PUBLIC RSA_PUBLIC_KEY = '${publicKeyBody(pub1)}'`,
    );
    await execute(conn, `ALTER USER KP_NODE SET RSA_PUBLIC_KEY_2 = '${publicKeyBody(pub2)}'`);
  } finally {
    await destroy(conn);
  }
}

function keyPairOptions(extra) {
  return options({ username: 'kp_node', password: undefined, authenticator: 'SNOWFLAKE_JWT', ...extra });
}

test('key-pair login with a PEM private key (milliseconds in iat/exp)', async () => {
  await setUp();
  const conn = await connect(keyPairOptions({ privateKey: plainKeyPem }));
  try {
    const { rows } = await execute(conn, 'SELECT CURRENT_USER() AS U');
    assert.deepEqual(rows, [{ U: 'KP_NODE' }]);
  } finally {
    await destroy(conn);
  }
});

test('key-pair login with a des3-encrypted PKCS#8 key file and passphrase', async () => {
  await setUp();
  const conn = await connect(keyPairOptions({ privateKeyPath: encKeyPath, privateKeyPass: passphrase }));
  try {
    const { rows } = await execute(conn, 'SELECT CURRENT_USER() AS U');
    assert.deepEqual(rows, [{ U: 'KP_NODE' }]);
  } finally {
    await destroy(conn);
  }
});

test('an unregistered key is refused with 390144', async () => {
  await setUp();
  const other = openssl(['pkcs8', '-topk8', '-nocrypt'], openssl(['genrsa', '2048'])).toString();
  await assert.rejects(connect(keyPairOptions({ privateKey: other })), (err) => {
    assert.equal(err.code, '390144');
    assert.equal(err.message, 'JWT token is invalid.');
    return true;
  });
});

test('unsetting a key slot refuses its key at once', async () => {
  await setUp();
  const admin = await connect();
  try {
    await execute(admin, 'ALTER USER KP_NODE UNSET RSA_PUBLIC_KEY');
  } finally {
    await destroy(admin);
  }
  await assert.rejects(connect(keyPairOptions({ privateKey: plainKeyPem })), (err) => {
    assert.equal(err.code, '390144');
    return true;
  });
  const conn = await connect(keyPairOptions({ privateKeyPath: encKeyPath, privateKeyPass: passphrase }));
  await destroy(conn);
});

test('a key encrypted with openssl pkcs8 -v1 PBE-SHA1-3DES logs in', async () => {
  await setUp();
  const v1Path = path.join(tmp, 'rsa_key_v1.p8');
  openssl(['pkcs8', '-topk8', '-v1', 'PBE-SHA1-3DES', '-out', v1Path, '-passout', `pass:${passphrase}`], openssl(['genrsa', '2048']));
  const pub = openssl(['rsa', '-in', v1Path, '-passin', `pass:${passphrase}`, '-pubout']);
  const admin = await connect();
  try {
    await execute(admin, `ALTER USER KP_NODE SET RSA_PUBLIC_KEY = '${publicKeyBody(pub)}'`);
  } finally {
    await destroy(admin);
  }
  const conn = await connect(keyPairOptions({ privateKeyPath: v1Path, privateKeyPass: passphrase }));
  try {
    const { rows } = await execute(conn, 'SELECT CURRENT_USER() AS U');
    assert.deepEqual(rows, [{ U: 'KP_NODE' }]);
  } finally {
    await destroy(conn);
  }
});
