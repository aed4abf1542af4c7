// Identity refusals through the unmodified snowflake-sdk Node.js driver against a real
// firn server: a disabled user, lockout after five wrong passwords, and a SERVICE user's
// password. Start-up is shared with the other files (harness.mjs).
//
// Run: cd test/node && npm ci && node --test

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { connect, destroy, execute } from './harness.mjs';

const userPassword = 'Node-passw0rd-1';

function refusedWith(code) {
  return (err) => {
    assert.equal(err.code, code, `${err.code} ${err.message}`);
    return true;
  };
}

test('disabled user, lockout and SERVICE user are refused with their codes', async () => {
  const admin = await connect();
  try {
    await execute(admin, `CREATE USER node_dis PASSWORD = '${userPassword}'`);
    await execute(admin, `CREATE USER node_lock PASSWORD = '${userPassword}'`);
    await execute(admin, 'CREATE USER node_svc TYPE = SERVICE');

    const ok = await connect({ username: 'node_dis', password: userPassword });
    await destroy(ok);
    await execute(admin, 'ALTER USER node_dis SET DISABLED = TRUE');
    await assert.rejects(connect({ username: 'node_dis', password: userPassword }), refusedWith('390101'));

    for (let i = 0; i < 5; i++) {
      await assert.rejects(connect({ username: 'node_lock', password: 'Wrong-passw0rd' }), refusedWith('390100'));
    }
    // Locked: even the right password is refused, with the locked error.
    await assert.rejects(connect({ username: 'node_lock', password: userPassword }), refusedWith('390102'));
    await execute(admin, 'ALTER USER node_lock SET MINS_TO_UNLOCK = 0');
    const unlocked = await connect({ username: 'node_lock', password: userPassword });
    await destroy(unlocked);

    await assert.rejects(connect({ username: 'node_svc', password: userPassword }), refusedWith('390100'));
  } finally {
    await destroy(admin);
  }
});
