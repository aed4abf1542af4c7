// Large results through the unmodified snowflake-sdk Node.js driver: firn answers
// a result of more than 1,000 rows with the first rows inline and the rest as chunks
// (GET /firn/chunks/<queryId>/<n> with the reply's chunkHeaders), which the driver
// downloads and decodes. Every row must equal the same row fetched inline.
//
// Run: cd test/node && npm ci && node --test chunks.test.mjs

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { execute, withConnection } from './harness.mjs';

const N = 20000;
const QUERY =
  `SELECT range AS ID, ` +
  `CASE WHEN range % 7 = 0 THEN NULL ELSE 'row "' || range || '" é' END AS S, ` +
  `CASE WHEN range % 5 = 0 THEN NULL ELSE (range - 10000) / 100 END AS AMOUNT, ` +
  `TIMESTAMP '1969-12-31 23:00:00' + to_milliseconds(range * 250 + 1) AS TS ` +
  `FROM range(${N})`;

// values turns a row object into comparable plain values.
function values(r) {
  return [r.ID, r.S, r.AMOUNT, r.TS === null ? null : r.TS.getTime()];
}

test('a 20,000-row result arrives through chunks with the inline values', async () => {
  await withConnection(async (conn) => {
    const { stmt, rows } = await execute(conn, `${QUERY} ORDER BY ID`);
    // At most 1,000 rows come inline: the rest were downloaded as chunks.
    assert.equal(rows.length, N);
    assert.equal(stmt.getNumRows(), N);
    for (let i = 0; i < N; i++) {
      const r = rows[i];
      assert.equal(r.ID, i);
      assert.equal(r.S, i % 7 === 0 ? null : `row "${i}" é`);
      assert.equal(r.AMOUNT, i % 5 === 0 ? null : (i - 10000) / 100);
      // 1969-12-31 23:00:00 UTC is -3,600,000 ms; rows before 1970 have fractions.
      assert.equal(r.TS.getTime(), -3600000 + i * 250 + 1, `row ${i} TS`);
    }
    for (const lo of [0, 999, 1000, 1001, 14399, 19500]) {
      const hi = Math.min(lo + 499, N - 1);
      const { rows: small } = await execute(conn, `SELECT * FROM (${QUERY}) WHERE ID BETWEEN ${lo} AND ${hi} ORDER BY ID`);
      assert.equal(small.length, hi - lo + 1);
      small.forEach((r, k) => assert.deepEqual(values(rows[lo + k]), values(r), `row ${lo + k}`));
    }
  });
});

test('a chunked result streams row by row', async () => {
  await withConnection(async (conn) => {
    const n = await new Promise((resolve, reject) => {
      const stmt = conn.execute({ sqlText: `${QUERY} ORDER BY ID`, streamResult: true });
      let count = 0;
      stmt
        .streamRows()
        .on('error', reject)
        .on('data', (r) => {
          if (r.ID !== count) {
            reject(new Error(`row ${count} has ID ${r.ID}`));
          }
          count++;
        })
        .on('end', () => resolve(count));
    });
    assert.equal(n, N);
  });
});
