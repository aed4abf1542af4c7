package wire_test

import (
	"bytes"
	"compress/gzip"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/firn/firn/internal/result"
	"github.com/firn/firn/internal/wire"
)

// bigSet is BIG n's result: n rows of an id, a text, a pre- and post-1970 timestamp,
// a decimal and a column that is NULL on every third row.
func bigSet(n int) *result.Set {
	rows := make([][]any, n)
	for i := range rows {
		var opt any
		if i%3 != 0 {
			opt = fmt.Sprintf("opt \"%d\"\n", i)
		}
		rows[i] = []any{int64(i), fmt.Sprintf("name-%d-é", i), bigTS(i), fmt.Sprintf("%d.%02d", i/100, i%100), opt}
	}
	return &result.Set{
		Type: result.Select,
		Columns: []result.Column{
			{Name: "ID", Type: "fixed", Precision: 38},
			{Name: "NAME", Type: "text", Length: 64},
			{Name: "TS", Type: "timestamp_ntz", Scale: 9},
			{Name: "AMOUNT", Type: "fixed", Precision: 12, Scale: 2},
			{Name: "OPT", Type: "text", Length: 64, Nullable: true},
		},
		Rows: rows,
	}
}

// bigTS is row i's timestamp: seconds and milliseconds around 1970, half before it.
func bigTS(i int) time.Time {
	return time.Unix(int64(i-2500)*7, int64(i%1000)*1e6).UTC()
}

// TestDriverChunks reads results through gosnowflake on both sides of the inline
// limits; the large ones arrive in chunks, and every value must be the one produced.
func TestDriverChunks(t *testing.T) {
	defer wire.SetChunkTargetBytes(64 << 10)()
	e := newEnv(t)
	db := e.db(t)
	for _, n := range []int{0, 999, 1000, 1001, 6000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			rows, err := db.Query(fmt.Sprintf("BIG %d", n))
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			i := 0
			for rows.Next() {
				var (
					id     int64
					name   string
					ts     time.Time
					amount string
					opt    sql.NullString
				)
				if err := rows.Scan(&id, &name, &ts, &amount, &opt); err != nil {
					t.Fatal(err)
				}
				wantOpt := i%3 != 0
				if id != int64(i) || name != fmt.Sprintf("name-%d-é", i) || !ts.Equal(bigTS(i)) ||
					amount != fmt.Sprintf("%d.%02d", i/100, i%100) || opt.Valid != wantOpt ||
					(wantOpt && opt.String != fmt.Sprintf("opt \"%d\"\n", i)) {
					t.Fatalf("row %d = %d %q %v %q %v, want ts %v", i, id, name, ts, amount, opt, bigTS(i))
				}
				i++
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			if i != n {
				t.Fatalf("read %d rows, want %d", i, n)
			}
		})
	}
	chunkHits := 0
	e.rec.mu.Lock()
	for _, h := range e.rec.hits {
		if strings.HasPrefix(h.Path, "/firn/chunks/") {
			if h.Auth != "" {
				t.Errorf("chunk request carries Authorization %q", h.Auth)
			}
			chunkHits++
		}
	}
	e.rec.mu.Unlock()
	if chunkHits < 3 {
		t.Fatalf("%d chunk downloads, want the 1001- and 25000-row results chunked", chunkHits)
	}
}

// finalReply follows a query reply's result URL while the query is in progress (the
// test server's long poll is 5 ms); each fetch itself waits for the query.
func (e *env) finalReply(t *testing.T, r *reply, tok string) *reply {
	t.Helper()
	for r.code() == "333334" {
		var d struct {
			URL string `json:"getResultUrl"`
		}
		if err := json.Unmarshal(r.Data, &d); err != nil {
			t.Fatal(err)
		}
		r = e.do(t, rawReq{method: http.MethodGet, path: d.URL, token: tok})
	}
	return r
}

// chunkReply is the part of a query reply about chunks.
type chunkReply struct {
	QueryID      string            `json:"queryId"`
	RowSet       [][]*string       `json:"rowset"`
	Total        int64             `json:"total"`
	Returned     int64             `json:"returned"`
	ChunkHeaders map[string]string `json:"chunkHeaders"`
	Chunks       []struct {
		URL              string `json:"url"`
		RowCount         int    `json:"rowCount"`
		UncompressedSize int64  `json:"uncompressedSize"`
	} `json:"chunks"`
}

// getChunk fetches url with header and returns the status, Content-Encoding and the
// (decompressed) body.
func getChunk(t *testing.T, url string, header map[string]string) (int, string, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	// Set explicitly so that the transport does not decompress on its own.
	if _, ok := header["Accept-Encoding"]; !ok {
		req.Header.Set("Accept-Encoding", "identity")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r io.Reader = resp.Body
	enc := resp.Header.Get("Content-Encoding")
	if enc == "gzip" {
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, enc, b
}

func TestChunkProtocol(t *testing.T) {
	defer wire.SetChunkTargetBytes(256 << 10)()
	e := newEnv(t)
	tok, _, _ := e.login(t, "", nil)
	const n = 12000
	r := e.finalReply(t, e.query(t, tok, "", fmt.Sprintf("BIG %d", n)), tok)
	var d chunkReply
	if err := json.Unmarshal(r.Data, &d); err != nil {
		t.Fatal(err)
	}
	if d.Total != n || d.Returned != n || len(d.RowSet) != 1000 || len(d.Chunks) < 2 || len(d.ChunkHeaders) != 1 {
		t.Fatalf("reply: total %d returned %d inline %d chunks %d headers %v", d.Total, d.Returned, len(d.RowSet), len(d.Chunks), d.ChunkHeaders)
	}
	all := append([][]*string(nil), d.RowSet...)
	for k, c := range d.Chunks {
		if want := fmt.Sprintf("%s/firn/chunks/%s/%d", e.srv.URL, d.QueryID, k); c.URL != want {
			t.Fatalf("chunk %d url %s, want %s", k, c.URL, want)
		}
		hdr := map[string]string{}
		for k, v := range d.ChunkHeaders {
			hdr[k] = v
		}
		if k%2 == 1 {
			hdr["Accept-Encoding"] = "gzip"
		}
		status, enc, body := getChunk(t, c.URL, hdr)
		if status != http.StatusOK || (enc == "gzip") != (k%2 == 1) {
			t.Fatalf("chunk %d: status %d encoding %q", k, status, enc)
		}
		if int64(len(body)) != c.UncompressedSize {
			t.Errorf("chunk %d: %d bytes, meta says %d", k, len(body), c.UncompressedSize)
		}
		if bytes.HasPrefix(body, []byte("[[")) {
			t.Fatalf("chunk %d has enclosing brackets: %.40s", k, body)
		}
		var rows [][]*string
		if err := json.Unmarshal(append(append([]byte{'['}, body...), ']'), &rows); err != nil {
			t.Fatalf("chunk %d: %v", k, err)
		}
		if len(rows) != c.RowCount {
			t.Fatalf("chunk %d: %d rows, meta says %d", k, len(rows), c.RowCount)
		}
		all = append(all, rows...)
	}
	// Every row equals the inline encoding of the same value.
	want, err := result.EncodeRowsStyle(bigSet(n), time.UTC, result.EpochDecimal)
	if err != nil {
		t.Fatal(err)
	}
	gotJSON, _ := json.Marshal(all)
	wantJSON, _ := json.Marshal(want)
	if !bytes.Equal(gotJSON, wantJSON) {
		t.Fatal("rowset + chunks differ from the encoded result")
	}

	// The result fetch answers the same reply, with the same chunks.
	fetched := e.do(t, rawReq{method: http.MethodGet, path: "/queries/" + d.QueryID + "/result", token: tok})
	if !bytes.Equal(fetched.Data, r.Data) {
		t.Fatal("result fetch differs from the query reply")
	}

	url0, key := d.Chunks[0].URL, d.ChunkHeaders["X-Firn-Chunk-Key"]
	refused := []struct {
		name   string
		url    string
		header map[string]string
	}{
		{"no key", url0, nil},
		{"wrong key", url0, map[string]string{"X-Firn-Chunk-Key": strings.Repeat("A", len(key))}},
		{"short key", url0, map[string]string{"X-Firn-Chunk-Key": key[:10]}},
		{"session token instead", url0, map[string]string{"Authorization": `Snowflake Token="` + tok + `"`}},
		{"chunk out of range", fmt.Sprintf("%s/firn/chunks/%s/%d", e.srv.URL, d.QueryID, len(d.Chunks)), map[string]string{"X-Firn-Chunk-Key": key}},
		{"negative chunk", fmt.Sprintf("%s/firn/chunks/%s/-1", e.srv.URL, d.QueryID), map[string]string{"X-Firn-Chunk-Key": key}},
		{"unknown query", e.srv.URL + "/firn/chunks/00000000-0000-0000-0000-000000000000/0", map[string]string{"X-Firn-Chunk-Key": key}},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			if status, _, body := getChunk(t, tt.url, tt.header); status != http.StatusNotFound || bytes.Contains(body, []byte("name-")) {
				t.Fatalf("status %d body %.60s", status, body)
			}
		})
	}

	// A small result has no chunks.
	var small chunkReply
	if err := json.Unmarshal(e.finalReply(t, e.query(t, tok, "", "BIG 10"), tok).Data, &small); err != nil {
		t.Fatal(err)
	}
	if len(small.Chunks) != 0 || small.ChunkHeaders != nil || len(small.RowSet) != 10 {
		t.Fatalf("small result: %d chunks, headers %v, %d rows", len(small.Chunks), small.ChunkHeaders, len(small.RowSet))
	}

	// Closing a session frees its results: the chunks are gone.
	tok2, _, _ := e.login(t, "", nil)
	var other chunkReply
	if err := json.Unmarshal(e.finalReply(t, e.query(t, tok2, "", "BIG 2000"), tok2).Data, &other); err != nil || len(other.Chunks) == 0 {
		t.Fatalf("second session: %v, %d chunks", err, len(other.Chunks))
	}
	otherHdr := map[string]string{"X-Firn-Chunk-Key": other.ChunkHeaders["X-Firn-Chunk-Key"]}
	if status, _, _ := getChunk(t, other.Chunks[0].URL, otherHdr); status != http.StatusOK {
		t.Fatalf("second session's chunk: %d", status)
	}
	if status, _, _ := getChunk(t, other.Chunks[0].URL, map[string]string{"X-Firn-Chunk-Key": key}); status != http.StatusNotFound {
		t.Fatalf("second session's chunk with the first result's key: %d", status)
	}
	if r := e.do(t, rawReq{path: "/session?delete=true", token: tok2}); !r.Success {
		t.Fatalf("close: %s", r.code())
	}
	if status, _, _ := getChunk(t, other.Chunks[0].URL, otherHdr); status != http.StatusNotFound {
		t.Fatalf("chunk after session close: %d", status)
	}

	// A result past the retention period is dropped with its chunks.
	if status, _, _ := getChunk(t, url0, map[string]string{"X-Firn-Chunk-Key": key}); status != http.StatusOK {
		t.Fatalf("first result's chunk before expiry: %d", status)
	}
	e.clk.Advance(2 * time.Hour)
	tok3, _, _ := e.login(t, "", nil)
	if r := e.finalReply(t, e.query(t, tok3, "", "SELECT 1"), tok3); !r.Success {
		t.Fatalf("SELECT 1: %s", r.code())
	}
	if status, _, _ := getChunk(t, url0, map[string]string{"X-Firn-Chunk-Key": key}); status != http.StatusNotFound {
		t.Fatalf("chunk after retention: %d", status)
	}
}
