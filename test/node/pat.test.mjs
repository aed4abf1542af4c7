// Programmatic access tokens through the unmodified snowflake-sdk Node.js driver
// against a real firn server (start-up shared in shape with driver.test.mjs). The server is built (or taken from $FIRN_BIN), started on
// a free port with a fresh data directory, and stopped when the tests end.
//
// Run: cd test/node && npm ci && node --test

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { snowflake, password, port, connect, destroy, execute } from './harness.mjs';
test('PAT login: role restriction, password-field mode, removal', async () => {
  const admin = await connect();
  let secret;
  try {
    const { rows } = await execute(
      admin,
      `ALTER USER ADD PAT node_tok ROLE_RESTRICTION = 'SYSADMIN' MINS_TO_BYPASS_NETWORK_POLICY_REQUIREMENT = 60`,
    );
    assert.equal(rows.length, 1);
    assert.equal(rows[0].token_name, 'NODE_TOK');
    secret = rows[0].token_secret;
    assert.match(secret, /^firnpat_/);

    // TOKEN carries the secret.
    const pat = await connect({ authenticator: 'PROGRAMMATIC_ACCESS_TOKEN', token: secret, password: undefined });
    try {
      const { rows: r } = await execute(pat, 'SELECT CURRENT_ROLE() AS R, CURRENT_USER() AS U');
      assert.equal(r[0].R, 'SYSADMIN');
      assert.equal(r[0].U, 'ADMIN');
      await assert.rejects(execute(pat, 'USE ROLE ACCOUNTADMIN'), (err) => err.code === '003013');
    } finally {
      await destroy(pat);
    }

    // Without a token, the SDK's PAT mode sends the password field as TOKEN.
    const pw = await connect({ authenticator: 'PROGRAMMATIC_ACCESS_TOKEN', password: secret });
    await destroy(pw);

    // SHOW never shows the secret.
    const { rows: shown } = await execute(admin, 'SHOW USER PATS');
    assert.equal(shown.length, 1);
    assert.equal(shown[0].name, 'NODE_TOK');
    assert.equal(shown[0].status, 'ACTIVE');
    assert.ok(!JSON.stringify(shown).includes(secret.slice(8)), 'SHOW leaks the secret');

    const { rows: removed } = await execute(admin, 'ALTER USER REMOVE PAT node_tok');
    assert.equal(removed[0].status, 'Programmatic access token NODE_TOK successfully removed.');
  } finally {
    await destroy(admin);
  }
  await assert.rejects(
    connect({ authenticator: 'PROGRAMMATIC_ACCESS_TOKEN', token: secret, password: undefined }),
    (err) => err.code === '394400',
  );
});

test('PAT login with an unknown token is refused with 394400', async () => {
  await assert.rejects(
    connect({ authenticator: 'PROGRAMMATIC_ACCESS_TOKEN', token: 'firnpat_not-a-real-token', password: undefined }),
    (err) => err.code === '394400',
  );
});
