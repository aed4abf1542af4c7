// End-to-end tests of the unmodified snowflake-sdk Node.js driver against a
// real firn server. The server is built (or taken from $FIRN_BIN), started on
// a free port with a fresh data directory, and stopped when the tests end.
//
// Run: cd test/node && npm ci && node --test

import { test, before } from 'node:test';
import assert from 'node:assert/strict';

import { snowflake, password, port, options, connect, destroy, execute, withConnection } from './harness.mjs';
test('connects with a password and destroys the connection', async () => {
  const conn = await connect();
  assert.equal(conn.isUp(), true);
  await destroy(conn);
  assert.equal(conn.isUp(), false);
});

test('typed query returns JavaScript values', async () => {
  await withConnection(async (conn) => {
    const { stmt, rows } = await execute(
      conn,
      `SELECT 1::NUMBER(38,0) AS N, 1.5::FLOAT AS F, 'x'::VARCHAR AS S, TRUE AS B, '2024-01-02'::DATE AS D, ` +
        `'2024-01-02 03:04:05.123'::TIMESTAMP_NTZ AS TS, PARSE_JSON('{"a":1}') AS V, TO_BINARY('48656C6C6F','HEX') AS BIN`,
    );
    assert.deepEqual(
      stmt.getColumns().map((c) => [c.getName(), c.getType()]),
      [
        ['N', 'fixed'],
        ['F', 'real'],
        ['S', 'text'],
        ['B', 'boolean'],
        ['D', 'date'],
        ['TS', 'timestamp_ntz'],
        ['V', 'variant'],
        ['BIN', 'binary'],
      ],
    );
    assert.equal(rows.length, 1);
    const r = rows[0];
    assert.equal(r.N, 1);
    assert.equal(r.F, 1.5);
    assert.equal(r.S, 'x');
    assert.equal(r.B, true);
    assert.ok(r.D instanceof Date, 'DATE is a Date');
    assert.equal(r.D.getTime(), Date.UTC(2024, 0, 2));
    assert.ok(r.TS instanceof Date, 'TIMESTAMP_NTZ is a Date');
    assert.equal(r.TS.getTime(), Date.UTC(2024, 0, 2, 3, 4, 5, 123));
    assert.deepEqual(r.V, { a: 1 });
    assert.ok(Buffer.isBuffer(r.BIN), 'BINARY is a Buffer');
    assert.equal(r.BIN.toString('utf8'), 'Hello');
  });
});

test('timestamps before 1970 with a fraction decode exactly', async () => {
  await withConnection(async (conn) => {
    const { rows } = await execute(conn, `SELECT '1969-12-31 23:59:59.5'::TIMESTAMP_NTZ AS T`);
    assert.equal(rows[0].T.getTime(), -500);
  });
});

test('bind variables', async () => {
  await withConnection(async (conn) => {
    const { rows } = await execute(conn, 'SELECT ? + 1 AS A, UPPER(?) AS B', [41, 'firn']);
    assert.deepEqual(rows, [{ A: 42, B: 'FIRN' }]);
  });
});

test('syntax error surfaces code 001003 and the exact message', async () => {
  await withConnection(async (conn) => {
    await assert.rejects(execute(conn, 'SELEC 1'), (err) => {
      assert.equal(err.code, '001003');
      assert.equal(err.message, "SQL compilation error:\nsyntax error line 1 at position 0 unexpected 'SELEC'.");
      assert.equal(err.sqlState, '42000');
      return true;
    });
  });
});

test('wrong password is refused with 390100', async () => {
  await assert.rejects(connect({ password: `${password}-wrong` }), (err) => {
    assert.equal(err.code, '390100');
    assert.equal(err.message, 'Incorrect username or password was specified.');
    return true;
  });
});

test('CURRENT_USER() and CURRENT_ACCOUNT()', async () => {
  await withConnection(async (conn) => {
    const { stmt, rows } = await execute(conn, 'SELECT CURRENT_USER(), CURRENT_ACCOUNT()');
    assert.deepEqual(
      stmt.getColumns().map((c) => c.getName()),
      ['CURRENT_USER()', 'CURRENT_ACCOUNT()'],
    );
    assert.deepEqual(rows, [{ 'CURRENT_USER()': 'ADMIN', 'CURRENT_ACCOUNT()': 'FIRN' }]);
  });
});

test('SHOW DATABASES has Snowflake columns', async () => {
  await withConnection(async (conn) => {
    const { stmt, rows } = await execute(conn, 'SHOW DATABASES');
    const names = stmt.getColumns().map((c) => c.getName());
    for (const col of ['created_on', 'name', 'is_default', 'is_current', 'origin', 'owner', 'comment', 'options', 'retention_time', 'kind']) {
      assert.ok(names.includes(col), `SHOW DATABASES lacks column ${col}: ${names.join(', ')}`);
    }
    assert.equal(names[0], 'created_on');
    assert.equal(names[1], 'name');
    assert.ok(Array.isArray(rows));
  });
});
